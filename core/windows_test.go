package core

import (
	"context"
	"encoding/binary"
	"strings"
	"sync"
	"testing"

	"nitro/api"
	"nitro/core/backend"
	"nitro/core/backend/windows/ntsvc"
	"nitro/core/backend/windows/wintest"
	"nitro/core/kvm/rsp/rspfake"
)

// winCall is one call cmd.exe makes in the synthetic Windows guest, and
// what its kernel does with it.
type winCall struct {
	name   string
	args   []uint64
	status uint32
	// run is the kernel's work: it may write out-parameters.
	run func(g *winGuest)
}

// Addresses in cmd.exe of the synthetic guest: the first string crosses
// from one string page to the next, which are not neighbours in
// physical memory.
const (
	winStack    = wintest.StackTop - 0x800
	winUserCode = 0x401000
	winKStack   = wintest.KernelBase + 0x2f0000
	usPath      = wintest.Strings + 0x100
	oaPath      = wintest.Strings + 0x140
	bufPath     = wintest.Strings + 0x1000 - 20
	usKey       = wintest.Strings + 0x300
	oaKey       = wintest.Strings + 0x340
	bufKey      = wintest.Strings + 0x400
	usValue     = wintest.Strings + 0x500
	bufValue    = wintest.Strings + 0x520
	outHandle   = wintest.Strings + 0x600
	outThread   = wintest.Strings + 0x630
	outBase     = wintest.Strings + 0x608
	inSize      = wintest.Strings + 0x610
	iosb        = wintest.Strings + 0x620
	params      = wintest.Strings + 0x700
	bufImage    = wintest.Strings + 0x800
)

const (
	winPath  = `\??\C:\Users\victim\AppData\evil.txt`
	winKey   = `\Registry\Machine\Software\Microsoft\Windows\CurrentVersion\Run`
	winValue = "Updater"
	winImage = `\??\C:\Windows\System32\calc.exe`
)

// winGuest runs cmd.exe's script on the synthetic guest's vCPU 0.
type winGuest struct {
	g   *wintest.Guest
	cmd *wintest.Proc
	mu  sync.Mutex
	n   int
	// opened are the paths the kernel saw NtCreateFile open.
	opened []string
}

var winScript = []winCall{
	{name: "NtCreateFile", args: []uint64{outHandle, 0x120089 | 0x100000, oaPath, iosb, 0, 0x80, 1, 1, 0x60, 0, 0}, run: func(w *winGuest) {
		w.opened = append(w.opened, w.path())
		w.put64(outHandle, 0x1c)
	}},
	{name: "NtOpenKey", args: []uint64{outHandle, 0x20019, oaKey}, status: 0xc0000034},
	{name: "NtSetValueKey", args: []uint64{0x20, usValue, 0, 1, bufImage, 2*uint64(len(winImage)) + 2}},
	{name: "NtAllocateVirtualMemory", args: []uint64{^uint64(0), outBase, 0, inSize, 0x3000, 0x40}, run: func(w *winGuest) {
		w.put64(outBase, 0x2a0000)
	}},
	{name: "NtCreateUserProcess", args: []uint64{outHandle, outThread, 0x2000000, 0x2000000, 0, 0, 0, 0, params, 0, 0}, run: func(w *winGuest) {
		w.put64(outHandle, 0x24)
		w.put64(outThread, 0x28)
	}},
	{name: "NtClose", args: []uint64{0x1c}, status: 0xc0000008},
}

func newWinGuest() *winGuest {
	g := wintest.New(wintest.Build17514)
	w := &winGuest{g: g, cmd: g.Proc("cmd.exe")}
	u := g.User(w.cmd)
	put := func(va uint64, b []byte) { g.Put(u, va, b) }
	put(bufPath, wintest.UTF16(winPath))
	put(usPath, wintest.UnicodeString(bufPath, winPath))
	put(oaPath, wintest.ObjectAttributes(0, usPath, 0x40))
	put(bufKey, wintest.UTF16(winKey))
	put(usKey, wintest.UnicodeString(bufKey, winKey))
	put(oaKey, wintest.ObjectAttributes(0, usKey, 0x40))
	put(bufValue, wintest.UTF16(winValue))
	put(usValue, wintest.UnicodeString(bufValue, winValue))
	put(bufImage, wintest.UTF16(winImage))
	put(params+0x60, wintest.UnicodeString(bufImage, winImage))
	put(params+0x70, wintest.UnicodeString(bufImage, winImage))
	w.put64(inSize, 0x10000)
	return w
}

func (w *winGuest) put64(va, v uint64) {
	w.g.Put(w.g.User(w.cmd), va, binary.LittleEndian.AppendUint64(nil, v))
}

// path is the file name NtCreateFile's OBJECT_ATTRIBUTES give now.
func (w *winGuest) path() string {
	u := w.g.User(w.cmd)
	name, _ := u.U64(oaPath + 0x10)
	var hdr [16]byte
	_ = u.Read(hdr[:], name)
	raw := make([]byte, binary.LittleEndian.Uint16(hdr[:]))
	_ = u.Read(raw, binary.LittleEndian.Uint64(hdr[8:]))
	var s []rune
	for i := 0; i+1 < len(raw); i += 2 {
		s = append(s, rune(binary.LittleEndian.Uint16(raw[i:])))
	}
	return string(s)
}

func (w *winGuest) seen() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.opened...)
}

// exec is the vCPU: user code makes the script's calls through syscall,
// KiSystemCall64 swaps GS, the service runs and returns through the exit.
func (w *winGuest) exec(t *rspfake.Target, i int) {
	c := t.CPUs[i]
	w.mu.Lock()
	defer w.mu.Unlock()
	entry, exit := w.g.Entry(), w.g.Exit()
	swapgs := func() {
		gs, kgs := c.Get("gs_base"), c.Get("k_gs_base")
		c.Set("gs_base", kgs)
		c.Set("k_gs_base", gs)
	}
	switch c.Get("rip") {
	case winUserCode:
		call := winScript[w.n%len(winScript)]
		nr, _ := ntsvc.Lookup(call.name)
		regs := []string{"r10", "rdx", "r8", "r9"}
		for j, v := range call.args {
			if j < 4 {
				c.Set(regs[j], v)
			} else {
				w.put64(winStack+0x28+8*uint64(j-4), v)
			}
		}
		c.Set("rcx", winUserCode+2)
		c.Set("rax", uint64(nr))
		c.Set("rsp", winStack)
		c.Set("rip", entry)
	case entry: // swapgs (when the listener does not emulate it)
		swapgs()
		c.Set("rip", entry+3)
	case entry + 3: // KiSystemServiceCopyEnd: the arguments to the kernel stack, call r10
		nr := c.Get("rax")
		c.Set("rcx", c.Get("r10"))
		for j := range uint64(8) {
			v, _ := w.g.User(w.cmd).U64(c.Get("rsp") + 0x28 + 8*j)
			w.g.Put(w.g.Kernel(), winKStack+0x28+8*j, binary.LittleEndian.AppendUint64(nil, v))
		}
		binary.LittleEndian.PutUint64(t.Virt(winKStack, 8), exit)
		c.Set("rsp", winKStack)
		c.Set("rip", w.g.Handler(int(nr)))
	case exit:
		c.Set("rip", exit+1)
	case exit + 1: // sysret
		swapgs()
		c.Set("rsp", winStack)
		c.Set("rip", winUserCode)
	default:
		if rip := c.Get("rip"); rip >= w.g.Handler(0) && rip < w.g.Handler(len(ntsvc.NT)) {
			w.service(c)
			return
		}
		c.Set("rip", winUserCode)
	}
}

// service runs the call the handler at rip serves, and returns to exit.
func (w *winGuest) service(c *rspfake.CPU) {
	call := winScript[w.n%len(winScript)]
	w.n++
	if call.run != nil {
		call.run(w)
	}
	c.Set("rax", uint64(call.status))
	c.Set("rsp", c.Get("rsp")+8)
	c.Set("rip", w.g.Exit())
}

// attachWindows composes a session over the synthetic guest as Attach
// does over a live one: the gdbstub listener on the RSP fake, the
// Windows back end found in the guest's memory.
func attachWindows(t *testing.T, syscalls ...string) (*Session, *rspfake.Target, *winGuest) {
	t.Helper()
	w := newWinGuest()
	g := w.g
	f := rspfake.New(1, 0x300000)
	f.VirtBase = wintest.KernelBase
	copy(f.Mem, g.Phys.Mem[0x400000:0x700000]) // the image's code, for the stub's reads
	c := f.CPUs[0]
	c.Set("rip", winUserCode)
	c.Set("rsp", winStack)
	c.Set("cr3", w.cmd.DTB)
	c.Set("gs_base", wintest.TEB)
	c.Set("k_gs_base", g.KPCR)
	f.Exec = w.exec
	cpu := g.CPU0()
	b, err := backend.Open(backend.Target{
		Phys: g.Phys, Mem: g.Mem, RAMEnd: wintest.MemSize,
		CR3: cpu.CR3, CR4: cpu.CR4, GSBase: cpu.GSBase, KernelGSBase: cpu.KernelGSBase,
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	return gdbSession(t, "win7", f, b, syscalls), f, w
}

func TestWindowsCallsThroughTheListener(t *testing.T) {
	s, f, _ := attachWindows(t)
	sub := s.Subscribe(1024, api.Lossless)
	done := start(s)
	got := next(t, sub, 2*len(winScript))
	want := []string{
		`NtCreateFile(0x10000600, FILE_GENERIC_READ, {ObjectName="\\??\\C:\\Users\\victim\\AppData\\evil.txt", Attributes=OBJ_CASE_INSENSITIVE}, 0x10000620, 0x0, FILE_ATTRIBUTE_NORMAL, FILE_SHARE_READ, FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT|FILE_NON_DIRECTORY_FILE, 0x0, 0)`,
		`NtCreateFile([0x1c], FILE_GENERIC_READ, {ObjectName="\\??\\C:\\Users\\victim\\AppData\\evil.txt", Attributes=OBJ_CASE_INSENSITIVE}, 0x10000620, 0x0, FILE_ATTRIBUTE_NORMAL, FILE_SHARE_READ, FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT|FILE_NON_DIRECTORY_FILE, 0x0, 0) = 0 STATUS_SUCCESS`,
		`NtOpenKey(0x10000600, KEY_READ, {ObjectName="\\Registry\\Machine\\Software\\Microsoft\\Windows\\CurrentVersion\\Run", Attributes=OBJ_CASE_INSENSITIVE})`,
		`NtOpenKey(0x10000600, KEY_READ, {ObjectName="\\Registry\\Machine\\Software\\Microsoft\\Windows\\CurrentVersion\\Run", Attributes=OBJ_CASE_INSENSITIVE}) = 0xc0000034 STATUS_OBJECT_NAME_NOT_FOUND (The object name was not found)`,
		`NtSetValueKey(0x20, "Updater", 0, REG_SZ, "\\??\\C:\\Windows\\System32\\calc.exe", 66)`,
		`NtSetValueKey(0x20, "Updater", 0, REG_SZ, "\\??\\C:\\Windows\\System32\\calc.exe", 66) = 0 STATUS_SUCCESS`,
		`NtAllocateVirtualMemory(NtCurrentProcess(), [NULL], 0x0, [0x10000], MEM_COMMIT|MEM_RESERVE, PAGE_EXECUTE_READWRITE)`,
		`NtAllocateVirtualMemory(NtCurrentProcess(), [0x2a0000], 0x0, [0x10000], MEM_COMMIT|MEM_RESERVE, PAGE_EXECUTE_READWRITE) = 0 STATUS_SUCCESS`,
		`NtCreateUserProcess(0x10000600, 0x10000630, MAXIMUM_ALLOWED, MAXIMUM_ALLOWED, NULL, NULL, 0x0, 0x0, {ImagePathName="\\??\\C:\\Windows\\System32\\calc.exe", CommandLine="\\??\\C:\\Windows\\System32\\calc.exe"}, 0x0, 0x0)`,
		`NtCreateUserProcess([0x24], [0x28], MAXIMUM_ALLOWED, MAXIMUM_ALLOWED, NULL, NULL, 0x0, 0x0, {ImagePathName="\\??\\C:\\Windows\\System32\\calc.exe", CommandLine="\\??\\C:\\Windows\\System32\\calc.exe"}, 0x0, 0x0) = 0 STATUS_SUCCESS`,
		`NtClose(0x1c)`,
		`NtClose(0x1c) = 0xc0000008 STATUS_INVALID_HANDLE (An invalid handle was specified)`,
	}
	for i, sc := range got[:len(want)] {
		text := api.CallText(&sc, api.Whole)
		if text != want[i] {
			t.Errorf("call %d:\n got %s\nwant %s", i, text, want[i])
		}
		if sc.Process.PID != 1320 || sc.Process.TID != 1324 || sc.Process.Comm != "cmd.exe" || sc.Process.PPID != 1208 {
			t.Errorf("call %d from %+v, want cmd.exe 1320/1324", i, sc.Process)
		}
		if sc.IsExit() && !sc.Matched {
			t.Errorf("call %d: exit not paired with its entry", i)
		}
	}
	if got[3].Errno != "STATUS_OBJECT_NAME_NOT_FOUND" || !got[3].Failed() || got[1].Failed() {
		t.Errorf("NtOpenKey failed with %q; NtCreateFile failed %v", got[3].Errno, got[1].Failed())
	}
	requireDetached(t, s, f, done)
}

// TestWindowsHeldCallEdited holds NtCreateFile at its entry, points it at
// another file (a longer path: its UNICODE_STRING moves below the user
// stack) and lets it run: the kernel opens the new path.
func TestWindowsHeldCallEdited(t *testing.T) {
	s, f, w := attachWindows(t)
	ctx := context.Background()
	h, done := breakAndWait(t, s, api.Breakpoint{Name: "NtCreateFile"})
	if h.Uses[2].Kind != api.ArgString {
		t.Fatalf("NtCreateFile's OBJECT_ATTRIBUTES is %v, want a string to edit", h.Uses[2])
	}
	const longer = `\??\C:\Users\victim\AppData\Local\Temp\harmless-instead.txt`
	h, err := s.Edit(ctx, api.Edit{Arg: 2, Data: []byte(longer + "\x00"), String: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.Call.Args[2].Text, `harmless-instead.txt"`) {
		t.Errorf("after the edit: %s", h.Call.Args[2].Text)
	}
	if err := s.ClearBreak(ctx, api.Breakpoint{Name: "NtCreateFile"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Continue(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return len(w.seen()) > 0 })
	if got := w.seen()[0]; got != longer {
		t.Errorf("the kernel opened %q, want %q", got, longer)
	}
	requireDetached(t, s, f, done)
}

// TestWindowsSyscallsFilter stops at the handlers of the calls asked for
// (--syscalls): their arguments from the kernel stack, their exits where
// the handler returns.
func TestWindowsSyscallsFilter(t *testing.T) {
	s, f, _ := attachWindows(t, "NtSetValueKey", "NtClose")
	sub := s.Subscribe(1024, api.Lossless)
	done := start(s)
	got := next(t, sub, 8)
	want := []string{
		`NtSetValueKey(0x20, "Updater", 0, REG_SZ, "\\??\\C:\\Windows\\System32\\calc.exe", 66)`,
		`NtSetValueKey(0x20, "Updater", 0, REG_SZ, "\\??\\C:\\Windows\\System32\\calc.exe", 66) = 0 STATUS_SUCCESS`,
		`NtClose(0x1c)`,
		`NtClose(0x1c) = 0xc0000008 STATUS_INVALID_HANDLE (An invalid handle was specified)`,
	}
	for i, sc := range got {
		if text := api.CallText(&sc, api.Whole); text != want[i%4] {
			t.Errorf("call %d:\n got %s\nwant %s", i, text, want[i%4])
		}
	}
	requireDetached(t, s, f, done)
}
