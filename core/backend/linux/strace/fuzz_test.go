package strace

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"nitro/core/backend"
	"nitro/core/kvm"
)

const (
	fuzzBase = 0x10000 // where the fuzzed memory is mapped
	i386Seed = 1 << 15 // FuzzDecode's nr bit that picks the i386 ABI
)

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

// checkCall decodes one call of abi at entry and exit and checks the text
// is terminal-safe.
func checkCall(t *testing.T, d *Decoder, mem Memory, abi backend.ABI, nr uint64, args [6]uint64, ret int64) {
	t.Helper()
	var enter, exit backend.Syscall
	enter.Direction, exit.Direction = kvm.Enter, kvm.Exit
	enter.ABI, exit.ABI = abi, abi
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
		for _, abi := range []backend.ABI{backend.X8664, backend.I386} {
			for range 2000 {
				var args [6]uint64
				for i := range args {
					args[i] = randomArg(r, len(data))
				}
				nr := uint64(r.IntN(len(For(abi).table) + 10))
				checkCall(t, d, mem, abi, nr, args, int64(randomArg(r, len(data))))
			}
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
	// i386: openat, execve with 4-byte pointers, rt_sigaction, writev, mmap2, socketcall.
	f.Add(uint16(295|i386Seed), uint64(atFdcwd), uint64(fuzzBase), uint64(0o1101), uint64(0o644), uint64(0), uint64(0), int64(3), []byte("/tmp/x\x00"))
	argv32 := binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, fuzzBase+8), 0)
	f.Add(uint16(11|i386Seed), uint64(fuzzBase+8), uint64(fuzzBase), uint64(fuzzBase), uint64(0), uint64(0), uint64(0), int64(0), append(argv32, "/bin/sh\x00"...))
	f.Add(uint16(174|i386Seed), uint64(2), uint64(fuzzBase), uint64(fuzzBase), uint64(8), uint64(0), uint64(0), int64(0), []byte{0, 16, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0})
	f.Add(uint16(146|i386Seed), uint64(1), uint64(fuzzBase), uint64(3), uint64(0), uint64(0), uint64(0), int64(5), []byte{8, 0, 1, 0, 255, 255, 255, 255})
	f.Add(uint16(192|i386Seed), uint64(0), uint64(8192), uint64(3), uint64(0x22), uint64(0xffffffff), uint64(1<<40), int64(0xf7f00000), []byte{})
	// socketcall(SYS_CONNECT, [3, sockaddr, 16]) with its block in memory.
	block := binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 3), fuzzBase+12), 16)
	f.Add(uint16(102|i386Seed), uint64(3), uint64(fuzzBase), uint64(0), uint64(0), uint64(0), uint64(0), int64(0), append(block, 2, 0, 0x11, 0x5c, 10, 0, 0, 1))
	// prctl(PR_SET_NAME), clone3 with its struct, getdents64 over records.
	f.Add(uint16(157), uint64(15), uint64(fuzzBase), uint64(0), uint64(0), uint64(0), uint64(0), int64(0), []byte("name-longer-than-15\x00"))
	cloneArgs := binary.LittleEndian.AppendUint64(nil, clonePidfd|cloneParentSettid|cloneSettls)
	for _, v := range []uint64{fuzzBase, 0, fuzzBase + 4, 17, 0, 0, 0, fuzzBase + 64, 2, 0} {
		cloneArgs = binary.LittleEndian.AppendUint64(cloneArgs, v)
	}
	f.Add(uint16(435), uint64(fuzzBase), uint64(88), uint64(0), uint64(0), uint64(0), uint64(0), int64(42), cloneArgs)
	f.Add(uint16(217), uint64(3), uint64(fuzzBase), uint64(64), uint64(0), uint64(0), uint64(0), int64(40), []byte{16: 24, 40: 16})
	f.Fuzz(func(t *testing.T, nr uint16, a0, a1, a2, a3, a4, a5 uint64, ret int64, data []byte) {
		mem := &fakeMem{}
		mem.put(fuzzBase, data)
		abi := backend.X8664
		if nr&i386Seed != 0 {
			abi = backend.I386
		}
		checkCall(t, NewDecoder(Options{}), mem, abi, uint64(nr&^i386Seed), [6]uint64{a0, a1, a2, a3, a4, a5}, ret)
	})
}
