package ksym

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
)

// This file builds kallsyms tables the way scripts/kallsyms lays them out,
// from a symbol list, so tests know exactly what the decoder must find.

type synthSym struct {
	name   string
	typ    byte
	addr   uint64
	percpu bool // stored as an absolute value (CONFIG_KALLSYMS_ABSOLUTE_PERCPU)
}

type synthOpts struct {
	layout    Layout
	seqsWidth int // bytes a symbol of kallsyms_seqs_of_names between markers and tokens (offsets-first), 0 for none
}

// synthLayout records where the builder put each table, as offsets into the blob.
type synthLayout struct {
	names, markers, tokenTable, relBase, offsets int
}

// multiTokens are the compression tokens the builder uses besides single
// characters; longer ones first so the greedy encoder prefers them.
var multiTokens = []string{"__x64_sys_", "kallsyms_", "linux_", "sym_", "ab"}

type blobWriter struct{ b []byte }

func (w *blobWriter) align() {
	for len(w.b)%8 != 0 {
		w.b = append(w.b, 0)
	}
}
func (w *blobWriter) u16(v uint16) { w.b = binary.LittleEndian.AppendUint16(w.b, v) }
func (w *blobWriter) u32(v uint32) { w.b = binary.LittleEndian.AppendUint32(w.b, v) }
func (w *blobWriter) u64(v uint64) { w.b = binary.LittleEndian.AppendUint64(w.b, v) }

// buildKallsyms returns the tables for syms (sorted by address, with
// per-cpu symbols first) in the given layout, starting at an 8-aligned
// offset.
func buildKallsyms(syms []synthSym, o synthOpts) ([]byte, synthLayout) {
	var tok [256]string
	for _, s := range syms {
		for _, c := range []byte(string(s.typ) + s.name) {
			tok[c] = string(c)
		}
	}
	code := 255
	for _, m := range multiTokens {
		for tok[code] != "" {
			code--
		}
		tok[code] = m
	}
	// Code 0 is never a character; give it a token, as real tables do.
	tok[0] = "D__"

	// Greedy, longest token first, as multi-byte tokens are few: the
	// builder must be quick for the 70,000 symbols of a real-sized table.
	var multi []int
	for c, t := range tok {
		if len(t) > 1 {
			multi = append(multi, c)
		}
	}
	slices.SortStableFunc(multi, func(a, b int) int { return len(tok[b]) - len(tok[a]) })
	encode := func(s string) []byte {
		var out []byte
	next:
		for s != "" {
			for _, c := range multi {
				if strings.HasPrefix(s, tok[c]) {
					out = append(out, byte(c))
					s = s[len(tok[c]):]
					continue next
				}
			}
			out = append(out, s[0])
			s = s[1:]
		}
		return out
	}

	relBase := uint64(0)
	for _, s := range syms {
		if !s.percpu {
			relBase = s.addr
			break
		}
	}
	var w blobWriter
	var lay synthLayout
	offsets := func() {
		w.align()
		lay.offsets = len(w.b)
		for _, s := range syms {
			if s.percpu {
				w.u32(uint32(s.addr))
			} else {
				w.u32(uint32(int32(int64(relBase - s.addr - 1))))
			}
		}
		w.align()
		lay.relBase = len(w.b)
		w.u64(relBase)
	}
	seqs := func(width int) {
		w.align()
		order := make([]int, len(syms))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(syms[a].name, syms[b].name) })
		for _, i := range order {
			var v [4]byte
			binary.LittleEndian.PutUint32(v[:], uint32(i))
			w.b = append(w.b, v[:width]...)
		}
	}

	if o.layout == OffsetsFirst {
		offsets()
	}
	w.align()
	w.u32(uint32(len(syms)))
	w.align()
	names := len(w.b)
	lay.names = names
	var markers []uint32
	for i, s := range syms {
		if i%256 == 0 {
			markers = append(markers, uint32(len(w.b)-names))
		}
		e := encode(string(s.typ) + s.name)
		if len(e) > 0x7f {
			w.b = append(w.b, byte(len(e)&0x7f|0x80), byte(len(e)>>7))
		} else {
			w.b = append(w.b, byte(len(e)))
		}
		w.b = append(w.b, e...)
	}
	w.align()
	lay.markers = len(w.b)
	for _, m := range markers {
		w.u32(m)
	}
	if o.layout == OffsetsFirst && o.seqsWidth > 0 {
		seqs(o.seqsWidth)
	}
	w.align()
	lay.tokenTable = len(w.b)
	var index []uint16
	for _, t := range tok {
		index = append(index, uint16(len(w.b)-lay.tokenTable))
		w.b = append(w.b, t...)
		w.b = append(w.b, 0)
	}
	w.align()
	for _, i := range index {
		w.u16(i)
	}
	if o.layout == OffsetsLast {
		offsets()
		seqs(3)
	}
	w.align()
	return w.b, lay
}

// buildSelfListing builds tables that list kallsyms_names and
// kallsyms_token_table among their symbols, as Linux 6.12 does, for tables
// loaded at address at; skew moves kallsyms_names off its place. No other
// symbol may lie in the tables.
func buildSelfListing(syms []synthSym, o synthOpts, at uint64, skew int) ([]byte, synthLayout) {
	// Placeholders at the tables' start sort where the real addresses will.
	syms = sortSynth(append(slices.Clone(syms),
		synthSym{name: "kallsyms_names", typ: 'D', addr: at},
		synthSym{name: "kallsyms_token_table", typ: 'D', addr: at + 1}))
	_, lay := buildKallsyms(syms, o)
	for i := range syms {
		switch syms[i].name {
		case "kallsyms_names":
			syms[i].addr = at + uint64(lay.names+skew)
		case "kallsyms_token_table":
			syms[i].addr = at + uint64(lay.tokenTable)
		}
	}
	return buildKallsyms(syms, o)
}

// synthSymbols returns n symbols in kallsyms order: a few per-cpu ones,
// then _text at text and kernel symbols after it, ending with _end. The
// extra symbols are placed at the given distances from _text.
func synthSymbols(n int, text uint64, extra map[string]uint64) []synthSym {
	syms := []synthSym{
		{name: "__per_cpu_start", typ: 'A', addr: 0, percpu: true},
		{name: "current_task", typ: 'A', addr: 0x1fb80, percpu: true},
		{name: "_text", typ: 'T', addr: text},
	}
	for i := 0; len(syms) < n-1-len(extra); i++ {
		name := fmt.Sprintf("sym_%d", i)
		if i%97 == 0 {
			name = strings.Repeat("long_", 30) + name // a two-byte length
		}
		syms = append(syms, synthSym{name: name, typ: "tTdDbBrR"[i%8], addr: text + 0x1000 + uint64(i)*0x40})
	}
	for name, off := range extra {
		syms = append(syms, synthSym{name: name, typ: 'D', addr: text + off})
	}
	syms = append(syms, synthSym{name: "_end", typ: 'B', addr: text + 0x1000000})
	return sortSynth(syms)
}

func sortSynth(syms []synthSym) []synthSym {
	slices.SortStableFunc(syms, func(a, b synthSym) int {
		switch {
		case a.addr < b.addr:
			return -1
		case a.addr > b.addr:
			return 1
		}
		return 0
	})
	return syms
}
