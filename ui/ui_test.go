package ui_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"nitro/api"
	"nitro/themes"
	"nitro/ui"
	"nitro/ui/common"
	"nitro/ui/uitest"
)

// fixture is a UI under teatest over the synthetic core: libvirt's test
// domain (not QEMU) and "lab", whose session is s.
type fixture struct {
	t  *testing.T
	tm *teatest.TestModel
	hv *uitest.Hypervisor
	s  *uitest.Session
}

// start runs the UI at w x h; domain "" opens the list. Batches given are in
// the session before the UI attaches, so what it shows does not race.
func start(t *testing.T, domain string, w, h int, batches ...[]api.Syscall) *fixture {
	t.Helper()
	return startKeys(t, uitest.Keys(), domain, w, h, batches...)
}

// startKeys is start with the key map keys.
func startKeys(t *testing.T, keys *common.KeyMap, domain string, w, h int, batches ...[]api.Syscall) *fixture {
	t.Helper()
	hv := uitest.NewHypervisor()
	s := uitest.NewSession()
	for _, b := range batches {
		s.Send(b)
	}
	hv.Add(api.Domain{Name: "lab", State: "running", VCPUs: 2, MemoryKiB: 1 << 20}, s)
	pal, err := themes.Lookup("none")
	if err != nil {
		t.Fatal(err)
	}
	m := ui.New(context.Background(), ui.Options{
		Hypervisor: hv, Domain: domain, Palette: pal, Keys: *keys,
		Refresh: time.Hour, // no tick during a test: the screen depends on the events only
	})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h))
	t.Cleanup(func() { _ = tm.Quit() })
	return &fixture{t: t, tm: tm, hv: hv, s: s}
}

// waitFor waits until the screen has shown every one of texts.
func (f *fixture) waitFor(texts ...string) {
	f.t.Helper()
	seen := make([]bool, len(texts))
	teatest.WaitFor(f.t, f.tm.Output(), func(b []byte) bool {
		all := true
		for i, s := range texts {
			seen[i] = seen[i] || bytes.Contains(b, []byte(s))
			all = all && seen[i]
		}
		return all
	}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
}

// until polls a condition on the fake core.
func (f *fixture) until(what string, cond func() bool) {
	f.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			f.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (f *fixture) keys(ks ...string) {
	for _, k := range ks {
		switch k {
		case "enter":
			f.tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
		case "esc":
			f.tm.Send(tea.KeyMsg{Type: tea.KeyEsc})
		case "tab":
			f.tm.Send(tea.KeyMsg{Type: tea.KeyTab})
		case "ctrl+u":
			f.tm.Send(tea.KeyMsg{Type: tea.KeyCtrlU})
		default:
			f.tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)})
		}
	}
}

// screen ends the program and returns its last frame.
func (f *fixture) screen() string {
	f.t.Helper()
	if err := f.tm.Quit(); err != nil {
		f.t.Fatal(err)
	}
	return f.tm.FinalModel(f.t, teatest.WithFinalTimeout(5*time.Second)).View()
}

func golden(t *testing.T, screen string) {
	t.Helper()
	teatest.RequireEqualOutput(t, []byte(screen+"\n"))
}

// unfinished is a read by cat whose exit has not arrived.
func unfinished() api.Syscall {
	return uitest.Script()[1].Enter(31, uitest.Epoch.Add(31*time.Millisecond))
}

func TestDomainsView(t *testing.T) {
	f := start(t, "", 80, 24)
	f.waitFor("lab", "test")
	golden(t, f.screen())
}

func TestAttachToTestDriverSaysQEMU(t *testing.T) {
	f := start(t, "", 80, 24)
	f.waitFor("test")
	f.keys("enter") // the test driver's domain is first
	f.waitFor("QEMU domain")
	golden(t, f.screen())
}

func TestShutdownConfirms(t *testing.T) {
	f := start(t, "", 80, 24)
	f.waitFor("lab")
	f.keys("x", "n")
	f.waitFor("cancelled")
	if got := f.hv.Controls(); len(got) != 0 {
		t.Fatalf("declined shutdown ran: %v", got)
	}
	f.keys("j", "x", "y")
	f.until("shutdown", func() bool { return len(f.hv.Controls()) == 1 })
	f.keys("p")
	f.until("pause", func() bool { return len(f.hv.Controls()) == 2 })
	if got := strings.Join(f.hv.Controls(), ";"); got != "shut down lab;pause lab" {
		t.Errorf("controls = %q", got)
	}
}

func TestAttachedView(t *testing.T) {
	f := start(t, "lab", 80, 24, uitest.Stream(1, 30), []api.Syscall{unfinished()})
	f.waitFor("Syscalls 16 ", "total 31", "<unfinished ...>", "Processes 4")
	golden(t, f.screen())
}

func TestAttachedResize(t *testing.T) {
	f := start(t, "lab", 80, 24, uitest.Stream(1, 30))
	f.waitFor("Syscalls 15 ", "total 30", "Processes 4")
	f.tm.Send(tea.WindowSizeMsg{Width: 120, Height: 30})
	f.waitFor("Inspector")
	golden(t, f.screen())
}

func TestExitCompletesInPlace(t *testing.T) {
	f := start(t, "lab", 80, 24, uitest.Stream(1, 30), []api.Syscall{unfinished()})
	f.waitFor("Syscalls 16", "<unfinished ...>")
	f.s.Send([]api.Syscall{uitest.Script()[1].Exit(32, uitest.Epoch.Add(40*time.Millisecond))})
	f.waitFor("ret  4096")
	screen := f.screen()
	if strings.Contains(screen, "unfinished") || !strings.Contains(screen, "Syscalls 16 ") {
		t.Errorf("exit did not complete its entry in place:\n%s", screen)
	}
}

func TestHostileCommIsEscaped(t *testing.T) {
	f := start(t, "lab", 100, 30, uitest.Stream(1, 12))
	f.waitFor("Syscalls 6 ", "total 12", "Processes 4")
	screen := f.screen()
	if strings.ContainsAny(screen, "\x1b\x07") {
		t.Errorf("guest bytes reached the terminal raw:\n%q", screen)
	}
	if !strings.Contains(screen, `\x1b[2J\x1b]0;pw`) {
		t.Errorf("escaped comm not shown:\n%s", screen)
	}
}

func TestFilter(t *testing.T) {
	f := start(t, "lab", 80, 24, uitest.Stream(1, 30))
	f.waitFor("Syscalls 15 ", "total 30")
	f.keys("/")
	f.keys("name:openat", "enter")
	f.waitFor("Syscalls 6/15")
	golden(t, f.screen())
}

func TestFilterClears(t *testing.T) {
	f := start(t, "lab", 80, 24, uitest.Stream(1, 30))
	f.waitFor("Syscalls 15 ", "total 30")
	f.keys("/", "ENOENT", "enter")
	f.waitFor("Syscalls 3/15")
	f.keys("esc")
	f.waitFor("filter cleared")
	if screen := f.screen(); !strings.Contains(screen, "Syscalls 15 ") {
		t.Errorf("esc left a filter:\n%s", screen)
	}
}

func TestProcessSelectionFilters(t *testing.T) {
	f := start(t, "lab", 80, 24, uitest.Stream(1, 30))
	f.waitFor("Syscalls 15 ", "total 30", "Processes 4")
	f.keys("tab", "j", "enter") // pid 1, then 42
	// The pane's filter follows the process pane's mark by one message.
	f.waitFor("showing pid 42", "Syscalls 5/15")
	screen := f.screen()
	if !strings.Contains(screen, "Syscalls 5/15") || strings.Contains(screen, "    77 cat ") {
		t.Errorf("pane not narrowed to pid 42:\n%s", screen)
	}
}

func TestBreakEditContinue(t *testing.T) {
	f := start(t, "lab", 80, 24, uitest.Stream(1, 12))
	f.waitFor("Syscalls 6 ", "total 12")
	f.keys("k", "k", "k", "k", "k") // from close(3) up to openat("/etc/passwd")
	f.keys("b")
	f.waitFor("break armed: openat")
	f.s.Lock()
	breaks := append([]api.Breakpoint(nil), f.s.Breaks...)
	f.s.Unlock()
	if len(breaks) != 1 || breaks[0] != (api.Breakpoint{Name: "openat"}) {
		t.Fatalf("breaks = %+v, want openat for every process", breaks)
	}

	call := uitest.Script()[0].Enter(100, uitest.Epoch.Add(time.Second))
	f.s.Hold(api.Held{Call: call, Regs: []api.Register{{Name: "rax", Value: 257}, {Name: "rip", Value: 0xffffffff81000000}}})
	f.waitFor("HELD")
	f.keys("j", "e") // arg1: the path
	f.waitFor("edit arg1")
	f.keys("ctrl+u", `"/etc/shadow"`, "enter")
	f.until("string edit", func() bool {
		f.s.Lock()
		defer f.s.Unlock()
		return len(f.s.Edits) == 1
	})
	f.s.Lock()
	edits := append([]api.Edit(nil), f.s.Edits...)
	f.s.Unlock()
	if len(edits) != 1 || edits[0].Arg != 1 || string(edits[0].Data) != "/etc/shadow" || edits[0].Seq != call.Seq {
		t.Fatalf("edits = %+v, want arg1's string of call %d set to /etc/shadow", edits, call.Seq)
	}
	f.keys("j", "j", "e", "ctrl+u", "0x1", "enter") // rax, past arg2
	f.until("register edit", func() bool {
		f.s.Lock()
		defer f.s.Unlock()
		return len(f.s.Edits) == 2
	})
	f.s.Lock()
	if e := f.s.Edits[1]; e.Reg != "rax" || e.Value != 1 {
		t.Errorf("second edit = %+v, want rax = 1", e)
	}
	f.s.Unlock()
	f.waitFor("rax                 0x1 ") // the new value on screen
	golden(t, f.screen())
}

func TestContinueReleasesHeld(t *testing.T) {
	f := start(t, "lab", 80, 24, uitest.Stream(1, 12))
	f.waitFor("Syscalls 6 ", "total 12")
	f.s.Hold(api.Held{Call: uitest.Script()[0].Enter(100, uitest.Epoch)})
	f.waitFor("HELD")
	f.keys("c")
	f.waitFor("continued")
	f.s.Lock()
	n := f.s.Continues
	f.s.Unlock()
	if n != 1 {
		t.Fatalf("continues = %d", n)
	}
	if screen := f.screen(); strings.Contains(screen, "HELD") {
		t.Errorf("still shown as held after continue:\n%s", screen)
	}
}

func TestPauseResumeVM(t *testing.T) {
	f := start(t, "lab", 80, 24, uitest.Stream(1, 2))
	f.waitFor("Syscalls 1 ", "total 2")
	f.keys("p")
	f.waitFor(" paused ")
	if !f.s.Stats().Paused {
		t.Fatal("p did not pause the VM")
	}
	f.keys("p")
	f.waitFor("VM resumed")
	if f.s.Stats().Paused {
		t.Fatal("second p did not resume the VM")
	}
}

func TestHelp(t *testing.T) {
	f := start(t, "lab", 80, 24, uitest.Stream(1, 2))
	f.waitFor("Syscalls 1 ", "total 2")
	f.keys("?")
	f.waitFor("page down")
	golden(t, f.screen())
}

// Help is a box over the screen, not a screen of its own: the panes show
// around it, and the help key or the clear key closes it.
func TestHelpOverlayCloses(t *testing.T) {
	for _, closer := range []string{"?", "esc"} {
		f := start(t, "lab", 80, 24, uitest.Stream(1, 2))
		f.waitFor("Syscalls 1 ", "total 2")
		f.keys("?")
		f.waitFor("page down")
		f.keys(closer)
		if screen := f.screen(); strings.Contains(screen, "page down") || !strings.Contains(screen, "Syscalls 1") {
			t.Errorf("%s did not close the help:\n%s", closer, screen)
		}
	}
}

func TestHelpOverDomainList(t *testing.T) {
	f := start(t, "", 80, 24)
	f.waitFor("lab")
	f.keys("?")
	f.waitFor("attach/select")
	screen := f.screen()
	for _, want := range []string{"Domains", "NAME", "╭", "shut down domain", "previous pane"} {
		if !strings.Contains(screen, want) {
			t.Errorf("no %q on the domain list with help:\n%s", want, screen)
		}
	}
	if lines := strings.Split(screen, "\n"); len(lines) != 24 {
		t.Errorf("%d lines, want 24:\n%s", len(lines), screen)
	}
}

// B on a call of a process gone from the snapshot refuses: that break could
// never hit. A call newer than the snapshot may be of a process born since
// it, and arms.
func TestBreakPIDOnExitedProcess(t *testing.T) {
	now := time.Now()
	gone := api.Syscall{Seq: 1, Time: now.Add(-time.Minute), Direction: api.Enter, Name: "read",
		Process: api.Process{PID: 55, TID: 55, PPID: 1, Comm: "gone\a"}}
	young := api.Syscall{Seq: 2, Time: now.Add(time.Hour), Direction: api.Enter, Name: "read",
		Process: api.Process{PID: 56, TID: 56, PPID: 1, Comm: "young"}}
	f := start(t, "lab", 80, 24, []api.Syscall{gone, young})
	f.waitFor("Syscalls 2 ", "init") // the rows, and init: known from the snapshot only
	f.keys("B")                      // the newest call: young's
	f.waitFor("break armed: read in pid 56")
	f.keys("k", "B")
	f.waitFor(`pid 55 (gone\x07) has exited: a break on it would never hit`)
	f.s.Lock()
	breaks := append([]api.Breakpoint(nil), f.s.Breaks...)
	f.s.Unlock()
	if len(breaks) != 1 || breaks[0] != (api.Breakpoint{Name: "read", PID: 56}) {
		t.Errorf("breaks = %+v, want read in pid 56 only", breaks)
	}
}

// Hints name the keys as the user bound them.
func TestHintsNameReboundKeys(t *testing.T) {
	keys := uitest.KeysWith(map[string][]string{"edit": {"V"}, "continue": {"C"}, "follow": {"F"}, "break": {"X", "b"}})
	f := startKeys(t, keys, "lab", 80, 24, uitest.Stream(1, 12))
	f.waitFor("Syscalls 6 ") // the rows k moves over, not just the snapshot's count of them
	f.keys("k", "V")
	f.waitFor("scrolled (F: follow)", "nothing to edit: no call is held (arm a break with X)")
	f.s.Hold(api.Held{Call: uitest.Script()[0].Enter(100, uitest.Epoch)})
	f.waitFor("held in cat[77]; V edits, C continues", "held at enter: V edit, C continue")
	f.keys("C")
	f.waitFor("continued")
}

// An unbound action's hint is left out rather than naming a dead key.
func TestHintsOmitUnboundKeys(t *testing.T) {
	keys := uitest.KeysWith(map[string][]string{"break": {}, "continue": {}, "follow": {}})
	f := startKeys(t, keys, "lab", 80, 24, uitest.Stream(1, 12))
	f.waitFor("Syscalls 6 ") // the rows k moves over
	f.keys("k", "e")
	f.waitFor("nothing to edit: no call is held")
	screen := f.screen()
	if !strings.Contains(screen, "Syscalls 6  scrolled ") || strings.Contains(screen, "follow)") {
		t.Errorf("the scrolled pane names the unbound follow key:\n%s", screen)
	}
	if strings.Contains(screen, "arm a break") {
		t.Errorf("the edit note names the unbound break key:\n%s", screen)
	}

	f = startKeys(t, keys, "lab", 80, 24, uitest.Stream(1, 12))
	f.waitFor("Syscalls 6 ", "total 12")
	f.s.Hold(api.Held{Call: uitest.Script()[0].Enter(100, uitest.Epoch)})
	f.waitFor("HELD")
	screen = f.screen()
	for _, want := range []string{"held in cat[77]; e edits ", "held at enter: e edit "} {
		if !strings.Contains(screen, want) {
			t.Errorf("no %q:\n%s", want, screen)
		}
	}
	if strings.Contains(screen, "continue") {
		t.Errorf("a hint names the unbound continue key:\n%s", screen)
	}
}

func TestQuitDetaches(t *testing.T) {
	f := start(t, "", 80, 24)
	f.waitFor("lab")
	f.keys("j", "enter")
	f.waitFor("Syscalls")
	f.keys("q")
	f.waitFor("detached from lab")
	f.until("close", func() bool {
		f.s.Lock()
		defer f.s.Unlock()
		return f.s.Closed
	})
}

func TestSessionEndQuitsWhenStartedAttached(t *testing.T) {
	f := start(t, "lab", 80, 24, uitest.Stream(1, 2))
	f.waitFor("Syscalls 1 ", "total 2")
	f.s.End()
	f.tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	m := f.tm.FinalModel(t).(*ui.Model)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	f.s.Lock()
	defer f.s.Unlock()
	if !f.s.Closed {
		t.Error("session not closed after it ended")
	}
}
