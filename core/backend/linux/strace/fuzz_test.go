package strace

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"nitro/core/backend"
	"nitro/core/kvm"
)

const fuzzBase = 0x10000 // where the fuzzed memory is mapped

// boundedMem fails the test if the decoder asks for more guest memory than
// its limits allow, whatever lengths the guest passed.
type boundedMem struct {
	t     *testing.T
	mem   Memory
	total int
}

const maxReadPerCall = 1 << 20

func (m *boundedMem) ReadVirt(p []byte, va uint64) error {
	if len(p) > MaxLimit*2 {
		m.t.Fatalf("one read of %d bytes", len(p))
	}
	if m.total += len(p); m.total > maxReadPerCall {
		m.t.Fatalf("%d bytes read for one call", m.total)
	}
	return m.mem.ReadVirt(p, va)
}

// checkCall decodes one call at entry and exit and checks the text is
// terminal-safe.
func checkCall(t *testing.T, d *Decoder, mem Memory, nr uint64, args [6]uint64, ret int64) {
	t.Helper()
	var enter, exit backend.Syscall
	enter.Direction, exit.Direction = kvm.Enter, kvm.Exit
	d.Enter(&enter, nr, args, &boundedMem{t: t, mem: mem})
	d.Exit(&exit, nr, args, uint64(ret), &boundedMem{t: t, mem: mem}, enter.Args)
	for _, sc := range []*backend.Syscall{&enter, &exit} {
		if len(sc.Args) > 6 {
			t.Fatalf("%d args", len(sc.Args))
		}
		assertSafe(t, line(sc))
	}
	// An exit without its entry decodes too.
	d.Exit(&exit, nr, args, uint64(ret), &boundedMem{t: t, mem: mem}, nil)
	assertSafe(t, line(&exit))
}

// randomArg is a value of the kinds guests pass: small numbers, flags,
// pointers into mapped memory (often near its end), wild values.
func randomArg(r *rand.Rand, size int) uint64 {
	switch r.IntN(5) {
	case 0:
		return uint64(r.IntN(300))
	case 1:
		return fuzzBase + uint64(r.IntN(size))
	case 2:
		return fuzzBase + uint64(size) - uint64(r.IntN(16))
	case 3:
		return uint64(int64(-r.IntN(5000)))
	}
	return r.Uint64()
}

// Random calls over random memory, from a fixed seed so a failure repeats.
func TestRandomCalls(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		data := make([]byte, 3*pageSize)
		for i := range data {
			data[i] = byte(r.IntN(256))
			if r.IntN(8) == 0 {
				data[i] = 0
			}
		}
		mem := &fakeMem{}
		mem.put(fuzzBase, data)
		d := NewDecoder(Options{StringLimit: 1 + r.IntN(64), ArrayLimit: 1 + r.IntN(64)})
		for range 2000 {
			var args [6]uint64
			for i := range args {
				args[i] = randomArg(r, len(data))
			}
			nr := uint64(r.IntN(len(table) + 10))
			checkCall(t, d, mem, nr, args, int64(randomArg(r, len(data))))
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(uint16(257), uint64(atFdcwd), uint64(fuzzBase), uint64(0o1101), uint64(0o644), uint64(0), uint64(0), int64(3), []byte("/tmp/x\x00"))
	f.Add(uint16(0), uint64(3), uint64(fuzzBase), uint64(1<<62), uint64(0), uint64(0), uint64(0), int64(1<<40), []byte("\x1b[2Jdata"))
	argv := binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, fuzzBase+16), fuzzBase)
	f.Add(uint16(59), uint64(fuzzBase+16), uint64(fuzzBase), uint64(fuzzBase), uint64(0), uint64(0), uint64(0), int64(0), append(argv, "/bin/sh\x00"...))
	f.Add(uint16(42), uint64(3), uint64(fuzzBase), uint64(28), uint64(0), uint64(0), uint64(0), int64(-111), []byte{10, 0, 1, 187})
	f.Add(uint16(20), uint64(1), uint64(fuzzBase), uint64(1<<31-1), uint64(0), uint64(0), uint64(0), int64(5), []byte{16, 0, 1, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255})
	f.Fuzz(func(t *testing.T, nr uint16, a0, a1, a2, a3, a4, a5 uint64, ret int64, data []byte) {
		mem := &fakeMem{}
		mem.put(fuzzBase, data)
		checkCall(t, NewDecoder(Options{}), mem, uint64(nr), [6]uint64{a0, a1, a2, a3, a4, a5}, ret)
	})
}
