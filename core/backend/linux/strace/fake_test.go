package strace

import (
	"encoding/binary"
	"errors"
	"strings"

	"nitro/core/backend"
	"nitro/core/kvm"
)

var errUnmapped = errors.New("unmapped")

// fakeMem is guest memory mapped page by page, as a real guest's is: a
// read fails if any page it touches is unmapped.
type fakeMem struct{ pages map[uint64]*[pageSize]byte }

func (m *fakeMem) ReadVirt(p []byte, va uint64) error {
	for len(p) > 0 {
		pg, ok := m.pages[va&^(pageSize-1)]
		if !ok {
			return errUnmapped
		}
		n := copy(p, pg[va%pageSize:])
		p, va = p[n:], va+uint64(n)
	}
	return nil
}

// put maps the pages under [va, va+len(b)) and writes b there.
func (m *fakeMem) put(va uint64, b []byte) uint64 {
	if m.pages == nil {
		m.pages = map[uint64]*[pageSize]byte{}
	}
	for i, c := range b {
		at := va + uint64(i)
		pg, ok := m.pages[at&^(pageSize-1)]
		if !ok {
			pg = new([pageSize]byte)
			m.pages[at&^(pageSize-1)] = pg
		}
		pg[at%pageSize] = c
	}
	return va
}

func (m *fakeMem) str(va uint64, s string) uint64 { return m.put(va, append([]byte(s), 0)) }

// ptrs maps an array of pointers at va.
func (m *fakeMem) ptrs(va uint64, ps ...uint64) uint64 {
	b := make([]byte, 8*len(ps))
	for i, p := range ps {
		binary.LittleEndian.PutUint64(b[8*i:], p)
	}
	return m.put(va, b)
}

// ptrs32 maps an array of i386 (4-byte) pointers or words at va.
func (m *fakeMem) ptrs32(va uint64, ps ...uint32) uint64 {
	b := make([]byte, 4*len(ps))
	for i, p := range ps {
		binary.LittleEndian.PutUint32(b[4*i:], p)
	}
	return m.put(va, b)
}

// line renders a decoded call as strace does.
func line(sc *backend.Syscall) string {
	var b strings.Builder
	b.WriteString(sc.Name)
	b.WriteByte('(')
	for i, a := range sc.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.Text)
	}
	b.WriteByte(')')
	if r := Result(sc); r != "" {
		b.WriteString(" = ")
		b.WriteString(r)
	}
	return b.String()
}

// run decodes one x86-64 call through entry and exit as the back end would.
func run(d *Decoder, mem Memory, nr uint64, ret int64, args ...uint64) (enter, exit backend.Syscall) {
	return runABI(d, mem, backend.X8664, nr, uint64(ret), args...)
}

// runABI decodes one call of abi through entry and exit; ret is rax.
func runABI(d *Decoder, mem Memory, abi backend.ABI, nr, ret uint64, args ...uint64) (enter, exit backend.Syscall) {
	var a [6]uint64
	copy(a[:], args)
	enter.Direction, enter.ABI = kvm.Enter, abi
	d.Enter(&enter, nr, a, mem)
	exit.Direction, exit.ABI = kvm.Exit, abi
	d.Exit(&exit, nr, a, ret, mem, enter.Args)
	return enter, exit
}
