package windows

import (
	"bytes"
	"encoding/binary"
	"testing"

	"nitro/core/backend/windows/wintest"
)

// FuzzProcessList points the process and thread links of the synthetic
// guest anywhere (cycles, into other structures, off the map): the walk
// ends, within its bounds.
func FuzzProcessList(f *testing.F) {
	g := wintest.New(wintest.Build17514)
	b := open(f, g)
	k := g.Kernel()
	head := wintest.KernelBase + g.Build.PsActiveProcessHead
	var links []uint64
	for _, p := range g.Procs {
		links = append(links, p.EPROCESS+0x188, p.EPROCESS+0x308)
	}
	orig := make([]uint64, len(links)+1)
	for i, l := range append([]uint64{head}, links...) {
		orig[i], _ = k.U64(l)
	}
	f.Add([]byte{})
	f.Add(binary.LittleEndian.AppendUint64([]byte{3}, g.Procs[2].EPROCESS+0x188)) // a cycle
	f.Add(binary.LittleEndian.AppendUint64([]byte{0}, 0xdead0000))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Each 9 bytes: which link (0 the head), and where it points now.
		all := append([]uint64{head}, links...)
		for ; len(data) >= 9; data = data[9:] {
			at := all[int(data[0])%len(all)]
			g.Put(k, at, data[1:9])
		}
		procs, _ := b.Processes()
		if len(procs) > maxProcesses+maxThreads {
			t.Fatalf("%d tasks", len(procs))
		}
		for i, l := range all {
			g.Put(k, l, binary.LittleEndian.AppendUint64(nil, orig[i]))
		}
	})
}

// TestHugeProcessList walks a list longer than any guest has: it stops at
// the bound.
func TestHugeProcessList(t *testing.T) {
	g := wintest.New(wintest.Build17514)
	b := open(t, g)
	k := g.Kernel()
	head := wintest.KernelBase + g.Build.PsActiveProcessHead
	// A chain of 30000 links in the pool's free part, 16 bytes apart.
	const start, n = 0xfffffa8000c40000, 30000
	buf := make([]byte, 16*n)
	for i := range n {
		binary.LittleEndian.PutUint64(buf[16*i:], start+16*uint64(i+1))
	}
	g.Put(k, start, buf[:16*(n-1)])
	g.Put(k, head, binary.LittleEndian.AppendUint64(nil, start))
	procs, err := b.Processes()
	if err == nil && len(procs) > maxProcesses+maxThreads {
		t.Errorf("%d tasks", len(procs))
	}
}

// FuzzUnicodeString decodes any UNICODE_STRING: a huge Length reads no
// more than the cap.
func FuzzUnicodeString(f *testing.F) {
	g := wintest.New(wintest.Build17514)
	b := open(f, g)
	u := g.User(g.Current.Proc)
	f.Add(uint16(0xffff), uint16(0), uint64(wintest.Strings), []byte("a\x00b\x00"))
	f.Add(uint16(7), uint16(7), uint64(wintest.Strings+0xfff), []byte{0xd8, 0x00})
	f.Add(uint16(16), uint16(16), uint64(wintest.Unmapped-4), []byte("xyzw"))
	f.Fuzz(func(t *testing.T, length, maxLen uint16, buf uint64, data []byte) {
		hdr := make([]byte, 16)
		binary.LittleEndian.PutUint16(hdr, length)
		binary.LittleEndian.PutUint16(hdr[2:], maxLen)
		binary.LittleEndian.PutUint64(hdr[8:], buf)
		g.Put(u, wintest.Strings+0x800, hdr)
		g.Put(u, wintest.Strings+0x100, data[:min(len(data), 0x600)])
		call, err := b.Handle(entry(g, "NtLoadDriver", wintest.Strings+0x800))
		if err != nil {
			t.Fatal(err)
		}
		// Every character escapes to at most 4 bytes of \xNN per byte of UTF-8.
		if n := len(call.Args[0].Text); n > 4*3*maxChars+16 {
			t.Fatalf("%d bytes of text", n)
		}
	})
}

// FuzzPEHeaders reads any image headers and CodeView record.
func FuzzPEHeaders(f *testing.F) {
	f.Add(wintest.PEHeader(wintest.Build17514.GUID, 2, 0x300000)[:headerSize])
	f.Add([]byte("MZ"))
	f.Add(append([]byte("RSDS"), make([]byte, 20)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = parseHeaders(data)
		_, _ = parseRSDS(data)
	})
}

// FuzzISF reads any profile file.
func FuzzISF(f *testing.F) {
	f.Add([]byte(`{"metadata":{"windows":{"pdb":{"GUID":"ab","age":1}}},"user_types":{"_EPROCESS":{"fields":{"UniqueProcessId":{"offset":384}}}},"symbols":{"KiSystemCall64":{"address":1}}}`))
	f.Add(append([]byte{0xfd, '7', 'z', 'X', 'Z', 0}, 1, 2, 3))
	f.Add([]byte(`{"user_types": {"_KPCR": {"fields": {"Prcb": {"offset": -1}}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ReadISF(bytes.NewReader(data))
	})
}

// FuzzHandle handles stops with any registers: wild call numbers, GS
// bases, stack pointers.
func FuzzHandle(f *testing.F) {
	g := wintest.New(wintest.Build17514)
	b := open(f, g)
	f.Add(uint64(0x52), uint64(wintest.StackTop-0x800), uint64(0x10000000), false)
	f.Add(uint64(0x1fff), uint64(0), ^uint64(0), true)
	f.Fuzz(func(t *testing.T, nr, rsp, arg uint64, atExit bool) {
		ev := entryNr(g, nr, arg, arg, arg, arg)
		ev.Regs.RSP = rsp
		if atExit {
			ev = exit(g, uint32(nr))
		}
		_, _ = b.Handle(ev)
	})
}
