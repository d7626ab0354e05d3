package windows

import (
	"encoding/binary"
	"strings"
	"testing"

	"nitro/core/backend/windows/ntsvc"
	"nitro/core/backend/windows/wintest"
	"nitro/core/kvm"
)

// entry is a stop at KiSystemCall64 in g's current thread, before swapgs,
// for the call name with args (the fifth on are written to the user stack).
func entry(g *wintest.Guest, name string, args ...uint64) *kvm.Event {
	nr, ok := ntsvc.Lookup(name)
	if !ok {
		panic(name)
	}
	return entryNr(g, uint64(nr), args...)
}

func entryNr(g *wintest.Guest, nr uint64, args ...uint64) *kvm.Event {
	p := g.Current.Proc
	rsp := uint64(wintest.StackTop - 0x800)
	ev := &kvm.Event{Direction: kvm.Enter}
	ev.Regs.RIP, ev.Regs.RAX, ev.Regs.RSP = g.Entry(), nr, rsp
	regs := []*uint64{&ev.Regs.R10, &ev.Regs.RDX, &ev.Regs.R8, &ev.Regs.R9}
	for i, v := range args {
		if i < 4 {
			*regs[i] = v
			continue
		}
		g.Put(g.User(p), rsp+0x28+8*uint64(i-4), binary.LittleEndian.AppendUint64(nil, v))
	}
	ev.SRegs.CR3, ev.SRegs.GSBase, ev.SRegs.KernelGSBase = p.DTB, wintest.TEB, g.KPCR
	return ev
}

// exit is the stop after the service, after swapgs, returning status.
func exit(g *wintest.Guest, status uint32) *kvm.Event {
	ev := &kvm.Event{Direction: kvm.Exit}
	ev.Regs.RIP, ev.Regs.RAX = g.Exit(), uint64(status)
	ev.SRegs.CR3, ev.SRegs.GSBase, ev.SRegs.KernelGSBase = g.Current.Proc.DTB, g.KPCR, wintest.TEB
	return ev
}

// TestStrings decodes UNICODE_STRINGs that cross a page boundary (to a
// page not next in physical memory), lie in an unmapped page, or claim
// more than is shown.
func TestStrings(t *testing.T) {
	g := wintest.New(wintest.Build17514)
	b := open(t, g)
	u := g.User(g.Current.Proc)
	huge := wintest.UnicodeString(wintest.Strings+0x100, "")
	binary.LittleEndian.PutUint16(huge, 0xfffe)
	g.Put(u, wintest.Strings+0x40, huge)
	g.Put(u, wintest.Strings+0x100, wintest.UTF16(strings.Repeat("A", 600)))
	for _, c := range []struct {
		at   uint64
		want string
	}{
		{wintest.CrossingString, `"\\Device\\HarddiskVolume2\\Users\\crossing.txt"`},
		{wintest.UnmappedString, "{Length=32, Buffer=0x10002010}"},
		{wintest.Strings + 0x40, `"` + strings.Repeat("A", 512) + `"...`},
		{wintest.Unmapped, "0x10002000"},
		{0, "NULL"},
	} {
		call, err := b.Handle(entry(g, "NtLoadDriver", c.at))
		if err != nil {
			t.Fatal(err)
		}
		if got := call.Args[0].Text; got != c.want {
			t.Errorf("UNICODE_STRING at %#x: %s, want %s", c.at, got, c.want)
		}
	}
}

// TestPairing pairs exits with entries per thread, across vCPUs, and shows
// an exit whose entry was not seen.
func TestPairing(t *testing.T) {
	g := wintest.New(wintest.BuildLater)
	b := open(t, g)
	cmd, notepad := g.Proc("cmd.exe").Threads[0], g.Proc("notepad.exe").Threads[0]
	g.Run(cmd)
	if _, err := b.Handle(entry(g, "NtClose", 0x1c)); err != nil {
		t.Fatal(err)
	}
	g.Run(notepad)
	if _, err := b.Handle(entry(g, "NtWaitForSingleObject", 0x30, 0, 0)); err != nil {
		t.Fatal(err)
	}
	g.Run(cmd)
	ev := exit(g, 0)
	ev.VCPU = 1
	call, err := b.Handle(ev)
	if err != nil {
		t.Fatal(err)
	}
	if !call.Matched || call.Name != "NtClose" || call.Process.PID != 1320 || call.Process.TID != 1324 {
		t.Errorf("cmd's exit: %+v", call.Syscall)
	}
	call, err = b.Handle(exit(g, 0))
	if err != nil {
		t.Fatal(err)
	}
	if call.Matched || call.Name != "?" {
		t.Errorf("an exit without its entry: %+v", call.Syscall)
	}
	g.Run(notepad)
	call, err = b.Handle(exit(g, 0x102))
	if err != nil {
		t.Fatal(err)
	}
	if !call.Matched || call.Name != "NtWaitForSingleObject" || call.RetText != "0x102 STATUS_TIMEOUT (The wait timed out)" || call.Failed() {
		t.Errorf("notepad's exit: %+v", call.Syscall)
	}
}

// TestWin32kAndWow64 names a win32k call with the count the guest's
// shadow table encodes, and flags a WOW64 process's calls.
func TestWin32kAndWow64(t *testing.T) {
	g := wintest.New(wintest.Build17514)
	b := open(t, g)
	g.Run(g.Proc("setup32.exe").Threads[0])
	// Service 0x1007 is encoded with 7%5 = 2 stack arguments: 6 in all.
	call, err := b.Handle(entryNr(g, 0x1007, 1, 2, 3, 4, 5, 6))
	if err != nil {
		t.Fatal(err)
	}
	if call.Name != ntsvc.Win32k[7].Name || len(call.Args) != 6 || call.Args[5].Raw != 6 {
		t.Errorf("win32k call: %s with %d arguments", call.Name, len(call.Args))
	}
	if call.Process.Comm != "setup32.exe *32" {
		t.Errorf("WOW64 process shows as %q", call.Process.Comm)
	}
	call, err = b.Handle(entryNr(g, 0x3fff))
	if err != nil {
		t.Fatal(err)
	}
	if call.Name != "syscall_16383" {
		t.Errorf("an unknown service: %s", call.Name)
	}
}

// TestHandlerStop reads a call stopped at its handler (--syscalls): the
// arguments in rcx, rdx, r8, r9 and the kernel stack.
func TestHandlerStop(t *testing.T) {
	g := wintest.New(wintest.Build17514)
	b := open(t, g)
	ev := entry(g, "NtClose")
	ev.Regs.RIP, ev.Regs.RCX = g.Handler(0xc), 0x44
	call, err := b.Handle(ev)
	if err != nil {
		t.Fatal(err)
	}
	if call.Name != "NtClose" || call.Args[0].Text != "0x44" {
		t.Errorf("at the handler: %s(%v)", call.Name, call.Args)
	}
	if err := call.Arguments.Set(0, 0x48); err != nil || ev.Regs.RCX != 0x48 {
		t.Errorf("Set at a handler: %v, rcx %#x", err, ev.Regs.RCX)
	}
}

// TestEdits changes arguments and the return value where the kernel and
// the process read them.
func TestEdits(t *testing.T) {
	g := wintest.New(wintest.Build17514)
	b := open(t, g)
	u := g.User(g.Current.Proc)
	g.Put(u, wintest.Strings+0x200, wintest.UTF16("Run"))
	g.Put(u, wintest.Strings+0x100, wintest.UnicodeString(wintest.Strings+0x200, "Run"))
	ev := entry(g, "NtSetValueKey", 0x20, wintest.Strings+0x100, 0, 1, 0x10000800, 16)
	call, err := b.Handle(ev)
	if err != nil {
		t.Fatal(err)
	}
	if err := call.Arguments.Set(5, 8); err != nil {
		t.Fatal(err)
	}
	if v, _ := u.U64(ev.Regs.RSP + 0x28 + 8); v != 8 {
		t.Errorf("the sixth argument on the stack is %d after the edit", v)
	}
	if err := call.Arguments.WriteString(1, []byte("Ru\x00")); err != nil {
		t.Fatal(err)
	}
	if err := b.Redecode(call); err != nil {
		t.Fatal(err)
	}
	if call.Args[1].Text != `"Ru"` || call.Args[5].Text != "8" {
		t.Errorf("after the edits: %v", call.Args)
	}
	if buf, _ := u.U64(wintest.Strings + 0x108); buf != wintest.Strings+0x200 {
		t.Errorf("a shorter name moved to %#x", buf)
	}
	if err := call.Arguments.SetReturn(0); err == nil {
		t.Error("SetReturn at an entry")
	}
	call, err = b.Handle(exit(g, 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := call.Arguments.SetReturn(0xc0000022); err != nil {
		t.Fatal(err)
	}
	if err := b.Redecode(call); err != nil {
		t.Fatal(err)
	}
	if call.Errno != "STATUS_ACCESS_DENIED" || call.Ret != -0x3fffffde || !call.Failed() {
		t.Errorf("after SetReturn: %+v", call.Syscall)
	}
	if err := call.Arguments.WriteString(1, []byte("longer than before")); err == nil {
		t.Error("a string moved at an exit")
	}
}

// TestBufferEdit previews NtWriteFile's buffer and replaces it, with a
// longer one that moves below the user stack and a new Length.
func TestBufferEdit(t *testing.T) {
	g := wintest.New(wintest.Build17514)
	b := open(t, g)
	u := g.User(g.Current.Proc)
	g.Put(u, wintest.Strings+0x300, []byte("hello\n"))
	ev := entry(g, "NtWriteFile", 0x40, 0, 0, 0, wintest.Strings+0x600, wintest.Strings+0x300, 6, 0, 0)
	call, err := b.Handle(ev)
	if err != nil {
		t.Fatal(err)
	}
	if call.Args[5].Text != `"hello\n"` || call.Arguments.Use(5).Len != 6 {
		t.Errorf("buffer %s, use %+v", call.Args[5].Text, call.Arguments.Use(5))
	}
	long := []byte(strings.Repeat("x", 40))
	if err := call.Arguments.WriteBuffer(5, long, false); err == nil {
		t.Error("a longer buffer without its length")
	}
	if err := call.Arguments.WriteBuffer(5, long, true); err != nil {
		t.Fatal(err)
	}
	if err := b.Redecode(call); err != nil {
		t.Fatal(err)
	}
	if call.Args[5].Text != `"`+strings.Repeat("x", 32)+`"...` || call.Args[6].Text != "40" || call.Args[5].Raw >= ev.Regs.RSP {
		t.Errorf("after the edit: %s (at %#x), %s", call.Args[5].Text, call.Args[5].Raw, call.Args[6].Text)
	}
}
