package windows

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ulikunitz/xz"
)

// ErrISF means a profile file is not a usable Volatility 3 ISF.
var ErrISF = errors.New("not a usable Volatility 3 ISF file")

// maxISF bounds what is read of an ISF file once decompressed: an
// ntoskrnl ISF is a few MiB.
const maxISF = 256 << 20

// isf is the part of a Volatility 3 Intermediate Symbol Format file the
// back end reads: the PDB it describes, struct field offsets and symbol
// addresses (relative to the image base for Windows).
type isf struct {
	Metadata struct {
		Windows struct {
			PDB struct {
				GUID     string `json:"GUID"`
				Age      uint32 `json:"age"`
				Database string `json:"database"`
			} `json:"pdb"`
		} `json:"windows"`
	} `json:"metadata"`
	UserTypes map[string]struct {
		Fields map[string]struct {
			Offset *uint64 `json:"offset"`
		} `json:"fields"`
	} `json:"user_types"`
	Symbols map[string]struct {
		Address *uint64 `json:"address"`
	} `json:"symbols"`
}

// xzMagic starts an .xz file, as Volatility 3 ships its symbol files;
// gzipMagic a .gz file, which it reads too.
var (
	xzMagic   = []byte{0xfd, '7', 'z', 'X', 'Z', 0}
	gzipMagic = []byte{0x1f, 0x8b}
)

// LoadISF reads the layout of an ntoskrnl build from a Volatility 3 ISF
// file, plain JSON or compressed with xz or gzip.
func LoadISF(path string) (*Layout, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	l, err := ReadISF(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// ReadISF reads a layout from an ISF stream, plain, xz or gzip.
func ReadISF(r io.Reader) (*Layout, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(len(xzMagic))
	switch {
	case bytes.HasPrefix(head, xzMagic):
		xr, err := xz.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrISF, err)
		}
		r = xr
	case bytes.HasPrefix(head, gzipMagic):
		gr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrISF, err)
		}
		r = gr
	default:
		r = br
	}
	var doc isf
	lr := &io.LimitedReader{R: r, N: maxISF}
	if err := json.NewDecoder(lr).Decode(&doc); err != nil {
		if lr.N <= 0 {
			return nil, fmt.Errorf("%w: larger than %d MiB", ErrISF, maxISF>>20)
		}
		return nil, fmt.Errorf("%w: %w", ErrISF, err)
	}
	return doc.layout()
}

// layout picks the offsets the back end uses out of the ISF's types.
func (d *isf) layout() (*Layout, error) {
	var missing []string
	field := func(typ, name string) uint64 {
		if t, ok := d.UserTypes[typ]; ok {
			if f, ok := t.Fields[name]; ok && f.Offset != nil {
				return *f.Offset
			}
		}
		missing = append(missing, typ+"."+name)
		return 0
	}
	optional := func(typ, name string) uint64 {
		if t, ok := d.UserTypes[typ]; ok {
			if f, ok := t.Fields[name]; ok && f.Offset != nil {
				return *f.Offset
			}
		}
		return 0
	}
	pdb := d.Metadata.Windows.PDB
	l := &Layout{
		Build:          "ISF " + pdb.Database,
		GUID:           strings.ToUpper(strings.ReplaceAll(pdb.GUID, "-", "")),
		PrcbCurrThread: field("_KPCR", "Prcb") + field("_KPRCB", "CurrentThread"),
		KThreadApcProc: field("_KTHREAD", "ApcState") + field("_KAPC_STATE", "Process"),
		KThreadProcess: field("_KTHREAD", "Process"),
		KProcessDTB:    field("_KPROCESS", "DirectoryTableBase"),
		EProcPID:       field("_EPROCESS", "UniqueProcessId"),
		EProcLinks:     field("_EPROCESS", "ActiveProcessLinks"),
		EProcPPID:      field("_EPROCESS", "InheritedFromUniqueProcessId"),
		EProcName:      field("_EPROCESS", "ImageFileName"),
		EProcThreads:   field("_EPROCESS", "ThreadListHead"),
		EProcWow64:     field("_EPROCESS", "Wow64Process"),
		EProcExit:      optional("_EPROCESS", "ExitStatus"),
		EProcAudit:     optional("_EPROCESS", "SeAuditProcessCreationInfo"),
		EThreadCid:     field("_ETHREAD", "Cid"),
		EThreadList:    field("_ETHREAD", "ThreadListEntry"),
		Symbols:        make(map[string]uint64),
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: it lacks %s", ErrISF, strings.Join(missing, ", "))
	}
	for name, s := range d.Symbols {
		if s.Address != nil {
			l.Symbols[name] = *s.Address
		}
	}
	if err := l.check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrISF, err)
	}
	return l, nil
}

// Offsets inside the composite fields the layout keeps as sums: the KPRCB
// is embedded in the KPCR at 0x180, and KAPC_STATE.Process is at 0x20 in
// every x64 Windows.
const apcStateProcess = 0x20

// writeISF writes l as a Volatility 3 ISF that ReadISF reads back: the
// fields and symbols the back end uses, for `nitro profile`.
func (l *Layout) writeISF(w io.Writer, pdb PDB) error {
	type field struct {
		Offset uint64 `json:"offset"`
	}
	type typ struct {
		Kind   string           `json:"kind"`
		Fields map[string]field `json:"fields"`
	}
	types := map[string]typ{}
	add := func(t, name string, off uint64) {
		if _, ok := types[t]; !ok {
			types[t] = typ{Kind: "struct", Fields: map[string]field{}}
		}
		types[t].Fields[name] = field{off}
	}
	add("_KPCR", "Prcb", kpcrPrcb)
	add("_KPRCB", "CurrentThread", l.PrcbCurrThread-kpcrPrcb)
	add("_KTHREAD", "ApcState", l.KThreadApcProc-apcStateProcess)
	add("_KAPC_STATE", "Process", apcStateProcess)
	add("_KTHREAD", "Process", l.KThreadProcess)
	add("_KPROCESS", "DirectoryTableBase", l.KProcessDTB)
	add("_EPROCESS", "UniqueProcessId", l.EProcPID)
	add("_EPROCESS", "ActiveProcessLinks", l.EProcLinks)
	add("_EPROCESS", "InheritedFromUniqueProcessId", l.EProcPPID)
	add("_EPROCESS", "ImageFileName", l.EProcName)
	add("_EPROCESS", "ThreadListHead", l.EProcThreads)
	add("_EPROCESS", "Wow64Process", l.EProcWow64)
	if l.EProcExit != 0 {
		add("_EPROCESS", "ExitStatus", l.EProcExit)
	}
	if l.EProcAudit != 0 {
		add("_EPROCESS", "SeAuditProcessCreationInfo", l.EProcAudit)
	}
	add("_ETHREAD", "Cid", l.EThreadCid)
	add("_ETHREAD", "ThreadListEntry", l.EThreadList)
	type symbol struct {
		Address uint64 `json:"address"`
	}
	syms := map[string]symbol{}
	for name, a := range l.Symbols {
		syms[name] = symbol{a}
	}
	doc := map[string]any{
		"metadata": map[string]any{
			"format":  "6.2.0",
			"windows": map[string]any{"pdb": map[string]any{"GUID": pdb.GUID, "age": pdb.Age, "database": pdb.Name}},
		},
		"base_types": map[string]any{},
		"enums":      map[string]any{},
		"user_types": types,
		"symbols":    syms,
	}
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(doc)
}
