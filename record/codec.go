package record

import (
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"nitro/api"
)

// Record kinds and event tag bits (see the package documentation).
const (
	kindEvent    = 0
	kindSnapshot = 1
	kindMask     = 3

	tagExit     = 1 << 2
	tagI386     = 1 << 3
	tagMatched  = 1 << 4
	tagInjected = 1 << 5
	tagLike     = 1 << 6
	tagSeqJump  = 1 << 7
)

// entryKey is what an exit shares with its entry when it is "like entry".
type entryKey struct {
	nr   uint64
	name string
	args []api.Arg
}

// encoder builds one block's raw payload; reset starts the next block.
type encoder struct {
	b       []byte
	strs    map[string]uint64
	procs   map[api.Process]uint64
	entries map[int]entryKey // per thread, the last entry in the block
	// args holds copies of the entries' arguments: the caller's slices
	// may be reused by the time the exit comes.
	args []api.Arg
	seq  uint64
	time int64
}

func newEncoder() *encoder {
	e := &encoder{strs: make(map[string]uint64), procs: make(map[api.Process]uint64), entries: make(map[int]entryKey)}
	e.reset(0, 0)
	return e
}

func (e *encoder) reset(seq uint64, t int64) {
	e.b = e.b[:0]
	clear(e.strs)
	clear(e.procs)
	clear(e.entries)
	e.args = e.args[:0]
	e.strs[""] = 1
	e.seq, e.time = seq-1, t
}

func (e *encoder) str(s string) {
	if k, ok := e.strs[s]; ok {
		e.b = binary.AppendUvarint(e.b, k)
		return
	}
	e.strs[s] = uint64(len(e.strs) + 1)
	e.b = append(e.b, 0)
	e.b = appendString(e.b, s)
}

func (e *encoder) proc(p *api.Process) {
	if k, ok := e.procs[*p]; ok {
		e.b = binary.AppendUvarint(e.b, k)
		return
	}
	e.procs[*p] = uint64(len(e.procs) + 1)
	e.b = append(e.b, 0)
	e.b = binary.AppendVarint(e.b, int64(p.PID))
	e.b = binary.AppendVarint(e.b, int64(p.TID-p.PID))
	e.b = binary.AppendVarint(e.b, int64(p.PPID))
	e.b = binary.AppendUvarint(e.b, uint64(p.UID))
	e.b = binary.AppendUvarint(e.b, p.Task)
	e.str(p.Comm)
}

func (e *encoder) clock(t time.Time) {
	ns := t.UnixNano()
	e.b = binary.AppendVarint(e.b, ns-e.time)
	e.time = ns
}

func (e *encoder) event(sc *api.Syscall) {
	tag := byte(kindEvent)
	if sc.Direction == api.Exit {
		tag |= tagExit
	}
	if sc.ABI == api.I386 {
		tag |= tagI386
	}
	if sc.Matched {
		tag |= tagMatched
	}
	if sc.Injected {
		tag |= tagInjected
	}
	tid := sc.Process.TID
	like := false
	if sc.Direction == api.Exit {
		en, ok := e.entries[tid]
		like = ok && en.nr == sc.Nr && en.name == sc.Name && slices.Equal(en.args, sc.Args)
		delete(e.entries, tid)
	} else {
		n := len(e.args)
		e.args = append(e.args, sc.Args...)
		e.entries[tid] = entryKey{sc.Nr, sc.Name, e.args[n:len(e.args):len(e.args)]}
	}
	if like {
		tag |= tagLike
	}
	jump := sc.Seq != e.seq+1
	if jump {
		tag |= tagSeqJump
	}
	e.b = append(e.b, tag)
	if jump {
		e.b = binary.AppendVarint(e.b, int64(sc.Seq-e.seq))
	}
	e.seq = sc.Seq
	e.clock(sc.Time)
	e.b = binary.AppendUvarint(e.b, uint64(sc.VCPU))
	e.proc(&sc.Process)
	if !like {
		e.b = binary.AppendUvarint(e.b, sc.Nr)
		e.str(sc.Name)
		// The arguments the call writes ride above the count's five bits:
		// a count of version 1, at most 16, reads the same.
		var out uint64
		for i, a := range sc.Args {
			if a.Out {
				out |= 1 << i
			}
		}
		e.b = binary.AppendUvarint(e.b, uint64(len(sc.Args))|out<<argCountBits)
		for _, a := range sc.Args {
			e.b = binary.AppendUvarint(e.b, a.Raw)
			e.str(a.Text)
		}
	}
	if sc.Direction == api.Exit {
		e.b = binary.AppendVarint(e.b, sc.Ret)
		e.str(sc.Errno)
	}
	e.str(sc.RetText)
}

func (e *encoder) snapshot(s *Snapshot) {
	e.b = append(e.b, kindSnapshot)
	e.clock(s.Time)
	e.b = binary.AppendUvarint(e.b, uint64(len(s.Procs)))
	for i := range s.Procs {
		e.proc(&s.Procs[i])
	}
}

// Snapshot is the guest's process table at a moment.
type Snapshot struct {
	Time  time.Time
	Procs []api.Process
	// Before is the index, in its block's Events, of the first event
	// recorded after the snapshot.
	Before int
}

// Block is one block's records, decoded.
type Block struct {
	Events    []api.Syscall
	Snapshots []Snapshot
}

// decoder reads varints and strings from b at off, remembering the first
// error so callers check once; every read is bounded by what is left of b.
// A read moves off, an integer, and leaves b alone: a slice written at
// every read would cost a write barrier each while the collector runs,
// which at a replay's full speed is much of the time.
type decoder struct {
	b   []byte
	off int // where the next read starts
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: bad %s at byte %d of a block", ErrCorrupt, what, d.off)
	}
	d.off = len(d.b)
}

// left is how many bytes are still to read.
func (d *decoder) left() int { return len(d.b) - d.off }

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail("number")
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.fail("number")
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) byte() byte {
	if d.left() == 0 {
		d.fail("record")
		return 0
	}
	c := d.b[d.off]
	d.off++
	return c
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(d.left()) {
		d.fail("string length")
		return ""
	}
	s := string(d.b[d.off : d.off+int(n)])
	d.off += int(n)
	return s
}

// blockDecoder decodes one block's records, with its tables.
type blockDecoder struct {
	decoder
	strs    []string
	procs   []api.Process
	entries map[int]entryKey
	seq     uint64
	time    int64
	arena   []api.Arg // the events' arguments, allocated a slab at a time
}

// args returns room for n arguments of one event.
func (d *blockDecoder) args(n int) []api.Arg {
	if cap(d.arena)-len(d.arena) < n {
		d.arena = make([]api.Arg, 0, max(4096, n))
	}
	a := d.arena[len(d.arena) : len(d.arena)+n : len(d.arena)+n]
	d.arena = d.arena[:len(d.arena)+n]
	return a
}

func (d *blockDecoder) str() string {
	k := d.uvarint()
	switch {
	case d.err != nil:
		return ""
	case k == 0:
		s := d.string()
		d.strs = append(d.strs, s)
		return s
	case k <= uint64(len(d.strs)):
		return d.strs[k-1]
	}
	d.fail("string ref")
	return ""
}

func (d *blockDecoder) proc() api.Process {
	k := d.uvarint()
	switch {
	case d.err != nil:
		return api.Process{}
	case k == 0:
		var p api.Process
		p.PID = int(d.varint())
		p.TID = p.PID + int(d.varint())
		p.PPID = int(d.varint())
		p.UID = uint32(d.uvarint())
		p.Task = d.uvarint()
		p.Comm = d.str()
		d.procs = append(d.procs, p)
		return p
	case k <= uint64(len(d.procs)):
		return d.procs[k-1]
	}
	d.fail("process ref")
	return api.Process{}
}

func (d *blockDecoder) clock() time.Time {
	d.time += d.varint()
	return time.Unix(0, d.time)
}

// decodeBlock decodes a block's raw payload; f is its frame, whose counts
// the records must agree with.
func decodeBlock(raw []byte, f *frame) (*Block, error) {
	if f.events > maxEvents || len(raw) > maxPayload {
		return nil, fmt.Errorf("%w: a block of %d events, %d bytes", ErrCorrupt, f.events, len(raw))
	}
	d := blockDecoder{decoder: decoder{b: raw}, strs: []string{""}, entries: make(map[int]entryKey),
		seq: f.firstSeq - 1, time: f.firstTime}
	blk := &Block{Events: make([]api.Syscall, 0, min(f.events, maxEvents, uint32(len(raw)/5)))}
	procs := 0 // in the snapshots so far
	for d.left() > 0 && d.err == nil {
		tag := d.byte()
		switch tag & kindMask {
		case kindEvent:
			if len(blk.Events) >= int(f.events) {
				d.fail("event count")
				break
			}
			d.event(tag, blk)
		case kindSnapshot:
			s := Snapshot{Time: d.clock(), Before: len(blk.Events)}
			n := d.uvarint()
			if procs += int(min(n, maxSnapshots+1)); n > uint64(d.left()) || procs > maxSnapshots {
				d.fail("snapshot size")
				break
			}
			s.Procs = make([]api.Process, 0, n)
			for i := uint64(0); i < n && d.err == nil; i++ {
				s.Procs = append(s.Procs, d.proc())
			}
			blk.Snapshots = append(blk.Snapshots, s)
		default:
			d.fail("record kind")
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	if n := len(blk.Events); n != int(f.events) || n > 0 && (blk.Events[0].Seq != f.firstSeq || blk.Events[n-1].Seq != f.lastSeq) {
		return nil, fmt.Errorf("%w: a block's events disagree with its frame", ErrCorrupt)
	}
	return blk, nil
}

func (d *blockDecoder) event(tag byte, blk *Block) {
	sc := api.Syscall{Direction: api.Enter, Matched: tag&tagMatched != 0, Injected: tag&tagInjected != 0}
	if tag&tagExit != 0 {
		sc.Direction = api.Exit
	}
	if tag&tagI386 != 0 {
		sc.ABI = api.I386
	}
	if tag&tagSeqJump != 0 {
		d.seq += uint64(d.varint())
	} else {
		d.seq++
	}
	sc.Seq = d.seq
	sc.Time = d.clock()
	sc.VCPU = int(d.uvarint())
	sc.Process = d.proc()
	tid := sc.Process.TID
	if tag&tagLike != 0 {
		en, ok := d.entries[tid]
		if !ok || sc.Direction != api.Exit {
			d.fail("exit like an entry")
			return
		}
		sc.Nr, sc.Name = en.nr, en.name
		if len(en.args) > 0 {
			sc.Args = d.args(len(en.args))
			copy(sc.Args, en.args)
		}
	} else {
		sc.Nr = d.uvarint()
		sc.Name = d.str()
		v := d.uvarint()
		n, out := v&(1<<argCountBits-1), v>>argCountBits
		if n > maxArgs || out>>n != 0 {
			d.fail("argument count")
			return
		}
		if n > 0 {
			sc.Args = d.args(int(n))
		}
		for i := range sc.Args {
			sc.Args[i] = api.Arg{Raw: d.uvarint(), Text: d.str(), Out: out&(1<<i) != 0}
		}
	}
	if sc.Direction == api.Exit {
		delete(d.entries, tid)
		sc.Ret = d.varint()
		sc.Errno = d.str()
	} else {
		d.entries[tid] = entryKey{sc.Nr, sc.Name, sc.Args}
	}
	sc.RetText = d.str()
	if d.err == nil {
		blk.Events = append(blk.Events, sc)
	}
}
