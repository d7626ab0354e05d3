package linux

import (
	"bytes"
	"errors"
	"testing"

	"nitro/api"
	"nitro/core/backend"
	"nitro/core/kvm"
	"nitro/core/vmi"
	"nitro/core/vmi/vmitest"
)

// heldAt handles the snapshot's events up to and including event n, with
// the user stack pointer at userStack at every entry, and returns the
// call of event n as a held call.
func heldAt(t *testing.T, n int) (*kernel, *Backend, []kvm.Event, *backend.Call) {
	t.Helper()
	k, events := snapshot(t)
	b := newTestBackend(k, vmi.NewMemory(k.phys))
	var call *backend.Call
	for i := 0; i <= n; i++ {
		if events[i].Direction == kvm.Enter {
			events[i].Regs.RSP = userStack
		}
		var err error
		if call, err = b.Handle(&events[i]); err != nil {
			t.Fatal(err)
		}
	}
	return k, b, events, call
}

// user returns n bytes of the snapshot's user memory at va.
func (k *kernel) user(va uint64, n int) []byte {
	return bytes.Clone(k.phys.Mem[userPA+va-userPage:][:n])
}

// TestWriteStringInPlace: a shorter path goes where the old one is, with
// its NUL, so the kernel reads exactly it; the pointer stays.
func TestWriteStringInPlace(t *testing.T) {
	k, b, events, call := heldAt(t, 0) // openat(AT_FDCWD, "/etc/nitro/probe-input", O_RDONLY)
	before := k.user(userPath, 0x80)
	if err := call.Arguments.WriteString(1, []byte("/etc/hostname")); err != nil {
		t.Fatal(err)
	}
	want := append([]byte("/etc/hostname\x00"), before[14:]...)
	if got := k.user(userPath, 0x80); !bytes.Equal(got, want) {
		t.Errorf("memory %q\n want %q", got, want)
	}
	if call.Arguments.Get(1) != userPath || events[0].Regs.RSI != userPath {
		t.Errorf("the pointer moved to %#x (rsi %#x)", call.Arguments.Get(1), events[0].Regs.RSI)
	}
	if err := b.Redecode(call); err != nil || call.Args[1].Text != `"/etc/hostname"` {
		t.Errorf("redecoded: %v %+v", err, call.Args)
	}
	// As long as the string there now: in place too.
	if err := call.Arguments.WriteString(1, []byte("/etc/hostnamX")); err != nil || call.Arguments.Get(1) != userPath {
		t.Errorf("a path as long as the old: %v, pointer %#x", err, call.Arguments.Get(1))
	}
}

// TestWriteStringMoves: a longer path never overwrites what follows the
// old one: it goes below the stack's red zone, 16-byte aligned, and the
// argument points there, at the entry and in what the exit shows.
func TestWriteStringMoves(t *testing.T) {
	k, b, events, call := heldAt(t, 0)
	before := k.user(userPath, 0x100)
	long := "/etc/nitro/../nitro/probe-input"
	if err := call.Arguments.WriteString(1, []byte(long)); err != nil {
		t.Fatal(err)
	}
	if got := k.user(userPath, 0x100); !bytes.Equal(got, before) {
		t.Errorf("the old path's memory changed:\n%q\n want %q", got, before)
	}
	at := call.Arguments.Get(1)
	if want := uint64(userStack-redZone-len(long)-1) &^ 15; at != want || events[0].Regs.RSI != at {
		t.Fatalf("argument at %#x (rsi %#x), want %#x, below the red zone", at, events[0].Regs.RSI, want)
	}
	if got := k.user(at, len(long)+1); string(got) != long+"\x00" {
		t.Errorf("at the new pointer: %q", got)
	}
	if err := b.Redecode(call); err != nil || call.Args[1].Text != `"`+long+`"` || call.Args[1].Raw != at {
		t.Errorf("redecoded: %v %+v", err, call.Args)
	}
	// A second string of the same hold goes below the first.
	if err := call.Arguments.WriteString(1, []byte(long+"/again")); err != nil {
		t.Fatal(err)
	}
	if second := call.Arguments.Get(1); second+uint64(len(long)+7) > at {
		t.Errorf("the second string at %#x runs into the first at %#x", second, at)
	}
	if got := k.user(at, len(long)+1); string(got) != long+"\x00" {
		t.Errorf("the first string became %q", got)
	}
	exit, err := b.Handle(&events[1])
	if err != nil {
		t.Fatal(err)
	}
	if exit.Args[1].Text != `"`+long+`/again"` {
		t.Errorf("the exit shows %s", exit.Args[1].Text)
	}
}

// TestWriteStringReadOnlyPage: a string in a page the process may not
// write (a literal in its program file, a page shared since fork) is
// never written there, even when the new one is shorter: it moves.
func TestWriteStringReadOnlyPage(t *testing.T) {
	k, events := snapshot(t)
	const rodata, rodataPA = 0x500000, 0xd0000
	k.tables.Map(rodata, rodataPA, vmitest.Page4K)
	k.tables.ReadOnly(rodata)
	copy(k.phys.Mem[rodataPA:], "/etc/nitro/probe-input\x00")
	b := newTestBackend(k, vmi.NewMemory(k.phys))
	events[0].Regs.RSI, events[0].Regs.RSP = rodata, userStack
	call, err := b.Handle(&events[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := call.Arguments.WriteString(1, []byte("/tmp/x")); err != nil {
		t.Fatal(err)
	}
	if got := string(k.phys.Mem[rodataPA : rodataPA+23]); got != "/etc/nitro/probe-input\x00" {
		t.Errorf("the read-only page now holds %q", got)
	}
	if at := call.Arguments.Get(1); at == rodata || string(k.user(at, 7)) != "/tmp/x\x00" {
		t.Errorf("the new string is not where the argument points (%#x)", at)
	}
}

// TestWriteStringCompat: a 32-bit call stopped in its C entry function
// takes the stack pointer from pt_regs, and the new pointer goes there.
func TestWriteStringCompat(t *testing.T) {
	k, _ := snapshot(t)
	b := newTestBackend(k, vmi.NewMemory(k.phys))
	regs := uint64(ptRegsArea + 0x800)
	const open32 = 5
	for w, v := range map[int]uint64{ptOrigAX: open32, ptBX: userPath, ptSP: userStack} {
		k.put64(regs+8*uint64(w), v)
	}
	enter := kvm.Event{Direction: kvm.Enter, Mechanism: kvm.Sysenter,
		SRegs: kvm.SRegs{CR3: k.tables.Root, GSBase: perCPU}, Regs: kvm.Regs{RIP: fastEntry32, RDI: regs}}
	call, err := b.Handle(&enter)
	if err != nil {
		t.Fatal(err)
	}
	long := "/etc/nitro/probe-input.longer"
	if err := call.Arguments.WriteString(0, []byte(long)); err != nil {
		t.Fatal(err)
	}
	bx, err := b.mem.Space(k.tables.Root, 0).U64(regs + 8*ptBX)
	if err != nil || bx >= userStack-redZone || string(k.user(bx, len(long)+1)) != long+"\x00" {
		t.Errorf("pt_regs->bx = %#x (%v), want the moved string's address below %#x", bx, err, userStack-redZone)
	}
}

// TestWriteBuffer: write's bytes with a new count go in place when they
// fit and below the stack when they grow; without a new count they must
// fit in the old one.
func TestWriteBuffer(t *testing.T) {
	k, b, events, call := heldAt(t, 4) // write(1, "hello, world\n", 13)
	after := k.user(userWrite+13, 0x40)
	if err := call.Arguments.WriteBuffer(1, []byte("hi\n"), true); err != nil {
		t.Fatal(err)
	}
	if got := k.user(userWrite, 13); string(got) != "hi\nlo, world\n" || events[4].Regs.RDX != 3 || call.Arguments.Get(1) != userWrite {
		t.Errorf("in place: %q, count %d, pointer %#x", got, events[4].Regs.RDX, call.Arguments.Get(1))
	}
	if err := call.Arguments.WriteBuffer(1, []byte("HI"), false); err != nil || string(k.user(userWrite, 3)) != "HI\n" || events[4].Regs.RDX != 3 {
		t.Errorf("within the count: %v, %q, count %d", err, k.user(userWrite, 3), events[4].Regs.RDX)
	}
	long := []byte("a longer line than hello\n")
	if err := call.Arguments.WriteBuffer(1, long, false); !errors.Is(err, api.ErrTooLong) {
		t.Errorf("growing without a count: %v, want api.ErrTooLong", err)
	}
	if err := call.Arguments.WriteBuffer(1, long, true); err != nil {
		t.Fatal(err)
	}
	at := call.Arguments.Get(1)
	if at == userWrite || !bytes.Equal(k.user(at, len(long)), long) || events[4].Regs.RDX != uint64(len(long)) {
		t.Errorf("grown: at %#x, %q, count %d", at, k.user(at, len(long)), events[4].Regs.RDX)
	}
	if got := k.user(userWrite+13, 0x40); !bytes.Equal(got, after) {
		t.Errorf("the memory after the old buffer changed: %q", got)
	}
	if err := b.Redecode(call); err != nil || call.Args[1].Text != `"a longer line than hello\n"` || call.Args[2].Text != "25" {
		t.Errorf("redecoded: %v %+v", err, call.Args)
	}
}

// TestSetReturnAtExit: the exit's new result is what the process gets
// (pt_regs->ax) and what the call shows: an error, or read's buffer cut
// to the new count.
func TestSetReturnAtExit(t *testing.T) {
	k, b, _, call := heldAt(t, 1) // openat = 3
	if err := call.Arguments.SetReturn(^uint64(1)); err != nil {
		t.Fatal(err)
	}
	if err := b.Redecode(call); err != nil {
		t.Fatal(err)
	}
	if call.Ret != -2 || call.Errno != "ENOENT" || call.RetText != "-1 ENOENT (No such file or directory)" {
		t.Errorf("after SetReturn(-2): ret %d errno %q text %q", call.Ret, call.Errno, call.RetText)
	}
	if ax, err := b.mem.Space(k.tables.Root, 0).U64(ptRegsArea + 8*ptAX); err != nil || ax != ^uint64(1) {
		t.Errorf("pt_regs->ax = %#x, %v", ax, err)
	}
	if call.Args[1].Text != `"/etc/nitro/probe-input"` {
		t.Errorf("what the call read changed: %s", call.Args[1].Text)
	}

	_, b, _, call = heldAt(t, 3) // read(3, "nitro probe input\n", 128) = 18
	if err := call.Arguments.SetReturn(5); err != nil {
		t.Fatal(err)
	}
	if err := b.Redecode(call); err != nil || call.RetText != "5" || call.Args[1].Text != `"nitro"` {
		t.Errorf("read returning 5: %v, %q, buffer %s", err, call.RetText, call.Args[1].Text)
	}
}

// TestEditsRefused: every edit a held call cannot take says why and
// changes nothing.
func TestEditsRefused(t *testing.T) {
	k, _, events, call := heldAt(t, 0)
	before := k.user(userPage, 0x1000)
	for _, c := range []struct {
		what string
		err  error
		want error
	}{
		{"a string for the flags", call.Arguments.WriteString(2, []byte("x")), api.ErrNotString},
		{"bytes for the flags", call.Arguments.WriteBuffer(2, []byte("x"), false), api.ErrNotPointer},
		{"bytes without a NUL for the path", call.Arguments.WriteBuffer(1, []byte("x"), false), api.ErrIsString},
		{"a count for the path", call.Arguments.WriteBuffer(1, []byte("x"), true), api.ErrIsString},
		{"a return value at the entry", call.Arguments.SetReturn(0), api.ErrNotAtExit},
		{"more than an edit writes", call.Arguments.WriteString(1, make([]byte, maxArgBytes)), nil},
	} {
		if c.err == nil || c.want != nil && !errors.Is(c.err, c.want) {
			t.Errorf("%s: %v, want %v", c.what, c.err, c.want)
		}
	}
	// A stack whose red zone reaches below its mapped page.
	events[0].Regs.RSP = userPage + 0x40
	call, err := newTestBackend(k, vmi.NewMemory(k.phys)).Handle(&events[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := call.Arguments.WriteString(1, []byte("/etc/nitro/probe-input-longer")); !errors.Is(err, api.ErrNoRoom) || !errors.Is(err, vmi.ErrNotPresent) {
		t.Errorf("no stack below: %v, want api.ErrNoRoom for a page not present", err)
	}
	if call.Arguments.Get(1) != userPath || !bytes.Equal(k.user(userPage, 0x1000), before) {
		t.Error("a refused edit changed the call or its memory")
	}

	// At the exit the call has run: its data may change in place, but
	// nothing that needs a new pointer or count.
	_, _, _, exit := heldAt(t, 5) // write(1, "hello, world\n", 13) = 13
	if err := exit.Arguments.WriteBuffer(1, []byte("a longer line than before\n"), true); !errors.Is(err, api.ErrReadOnlyArgs) {
		t.Errorf("a new count at the exit: %v, want api.ErrReadOnlyArgs", err)
	}
	_, _, _, exit = heldAt(t, 1)
	if err := exit.Arguments.WriteString(1, []byte("/etc/nitro/probe-input-longer")); !errors.Is(err, api.ErrReadOnlyArgs) {
		t.Errorf("a moved string at the exit: %v, want api.ErrReadOnlyArgs", err)
	}
}

// TestUse: what each argument of a held call is, from the strace table.
func TestUse(t *testing.T) {
	_, _, _, call := heldAt(t, 4) // write(1, buf, 13)
	want := []backend.ArgUse{{Kind: backend.ArgValue, Len: -1}, {Kind: backend.ArgBuffer, Len: 2}, {Kind: backend.ArgValue, Len: -1}}
	for i, w := range want {
		if got := call.Arguments.Use(i); got != w {
			t.Errorf("write's argument %d: %+v, want %+v", i, got, w)
		}
	}
	_, _, _, call = heldAt(t, 0)
	if got := call.Arguments.Use(1); got.Kind != backend.ArgString {
		t.Errorf("openat's path: %+v, want a string", got)
	}
}
