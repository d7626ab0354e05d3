package views

import (
	"context"
	"errors"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"nitro/api"
	"nitro/themes"
	"nitro/ui/calls"
	"nitro/ui/common"
	"nitro/ui/uitest"
)

func testCommon(t *testing.T) *common.Common {
	t.Helper()
	pal, err := themes.Lookup("none")
	if err != nil {
		t.Fatal(err)
	}
	return &common.Common{Ctx: context.Background(), Styles: common.NewStyles(pal), Keys: uitest.Keys()}
}

func press(m tea.Model, keys ...string) {
	for _, k := range keys {
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)})
	}
}

func selectedSeq(t *testing.T, v *Syscalls) uint64 {
	t.Helper()
	r, ok := v.Selected()
	if !ok {
		t.Fatal("nothing selected")
	}
	return r.Call.Seq
}

func TestFollowAndUnfollow(t *testing.T) {
	v := NewSyscalls(testCommon(t), calls.New(1000))
	v.SetSize(80, 10)
	v.Add(uitest.Stream(1, 100)) // 50 calls, seqs 1, 3, ... 99
	if !v.Following() || selectedSeq(t, v) != 99 {
		t.Fatalf("new pane: following %v, selected %d; want following the newest (99)", v.Following(), selectedSeq(t, v))
	}
	press(v, "k")
	if v.Following() || selectedSeq(t, v) != 97 {
		t.Fatalf("after up: following %v, selected %d; want stopped at 97", v.Following(), selectedSeq(t, v))
	}
	v.Add(uitest.Stream(101, 100))
	if v.Following() || selectedSeq(t, v) != 97 {
		t.Fatalf("new calls moved a scrolled pane: following %v, selected %d", v.Following(), selectedSeq(t, v))
	}
	if !strings.Contains(v.View(), "12:00:00.097") {
		t.Error("the selected call scrolled off screen")
	}
	press(v, "G")
	if !v.Following() || selectedSeq(t, v) != 199 {
		t.Fatalf("bottom key: following %v, selected %d; want following 199", v.Following(), selectedSeq(t, v))
	}
	press(v, "k", "j") // back down to the last row resumes following
	if !v.Following() {
		t.Fatal("moving down to the last row did not resume following")
	}
	v.SetFollow(false)
	v.Add(uitest.Stream(201, 10))
	if selectedSeq(t, v) != 199 {
		t.Fatalf("follow off: selected %d, want pinned at 199", selectedSeq(t, v))
	}
	v.SetFollow(true)
	if selectedSeq(t, v) != 209 {
		t.Fatalf("follow on: selected %d, want the newest 209", selectedSeq(t, v))
	}
}

func TestScrolledSelectionSurvivesEviction(t *testing.T) {
	v := NewSyscalls(testCommon(t), calls.New(20))
	v.SetSize(80, 8)
	v.Add(uitest.Stream(1, 40))
	press(v, "g") // the oldest row
	v.Add(uitest.Stream(41, 100))
	if got := selectedSeq(t, v); got != 101 { // the oldest row still kept
		t.Fatalf("selection after its row was evicted = %d, want the oldest kept (101)", got)
	}
	if rows := strings.Count(v.View(), "\n") + 1; rows != 8 {
		t.Fatalf("view is %d lines, want 8", rows)
	}
}

func TestOnlyVisibleRowsRendered(t *testing.T) {
	v := NewSyscalls(testCommon(t), calls.New(0))
	v.SetSize(80, 24)
	v.Add(uitest.Stream(1, 200_000))
	if lines := strings.Split(v.View(), "\n"); len(lines) != 24 {
		t.Fatalf("view is %d lines, want 24", len(lines))
	}
}

func TestRowForms(t *testing.T) {
	c := uitest.Script()[2] // openat failing with ENOENT
	enter, exit := c.Enter(1, uitest.Epoch), c.Exit(2, uitest.Epoch)
	compat := exit
	compat.ABI, compat.Nr, compat.Name = api.I386, 5, "open"
	compat.Args = compat.Args[1:]
	cases := []struct {
		name string
		row  calls.Row
		want string
	}{
		{"unfinished", calls.Row{Call: enter}, `openat(AT_FDCWD, "/nonexistent", O_RDONLY <unfinished ...>`},
		{"failed", calls.Row{Call: exit, Done: true}, `openat(AT_FDCWD, "/nonexistent", O_RDONLY) = -1 ENOENT (No such file or directory)`},
		{"orphan", calls.Row{Call: exit, Done: true, Orphan: true}, `<... openat resumed>) = -1 ENOENT (No such file or directory)`},
		{"32-bit", calls.Row{Call: compat, Done: true}, `i386:open("/nonexistent", O_RDONLY) = -1 ENOENT (No such file or directory)`},
	}
	for _, tc := range cases {
		if got := rowText(&tc.row, 200); !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q lacks %q", tc.name, got, tc.want)
		}
	}
	// A narrow pane cuts the arguments first, then the outcome's
	// description, keeping the start of the call.
	failed := calls.Row{Call: exit, Done: true}
	for _, w := range []struct {
		width int
		head  string
		tail  string
	}{
		{120, "openat(AT_FDCWD, ", "= -1 ENOENT (No such file or directory)"},
		{70, "openat(AT_FDCWD", "= -1 ENOENT"},
	} {
		got := rowText(&failed, w.width)
		if !strings.Contains(got, w.head) || !strings.Contains(got, w.tail) || len([]rune(got)) != w.width {
			t.Errorf("row %d wide %q: lacks %q or %q, or is not that wide", w.width, got, w.head, w.tail)
		}
	}
}

func TestProcessTreeSurvivesHostileParents(t *testing.T) {
	store := calls.New(10)
	hostile := uitest.Call{PID: 8, Name: "read", Args: nil}
	orphan := uitest.Call{PID: 9, Name: "read"}
	store.Add([]api.Syscall{hostile.Enter(1, uitest.Epoch), orphan.Enter(2, uitest.Epoch)})
	v := NewProcesses(testCommon(t), store)
	v.SetSize(60, 20)
	snap := []api.Process{
		{PID: 1, PPID: 0, Comm: "init"},
		{PID: 5, PPID: 6, Comm: "loopA"}, // a parent cycle: no root reaches it
		{PID: 6, PPID: 5, Comm: "loopB"},
		{PID: 7, PPID: 7, Comm: "self"},
		{PID: 8, PPID: 1, Comm: uitest.Hostile},
	}
	v.Set(snap)
	out := v.View()
	for _, want := range []string{"init", "loopA", "loopB", "self", "p9", `\x1b[2J`} {
		if !strings.Contains(out, want) {
			t.Errorf("tree lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[2J") {
		t.Error("hostile comm shown raw")
	}
}

func TestProcessSelectToggles(t *testing.T) {
	v := NewProcesses(testCommon(t), calls.New(10))
	v.SetSize(60, 20)
	v.Set(uitest.Procs)
	press(v, "j") // pid 42
	for _, want := range []int{42, 0} {
		_, cmd := v.Update(tea.KeyMsg{Type: tea.KeyEnter})
		if msg := cmd().(ProcessFilterMsg); msg.PID != want {
			t.Fatalf("enter: filter pid %d, want %d", msg.PID, want)
		}
	}
}

func TestParseEdit(t *testing.T) {
	buf := EditTarget{Edit: api.Edit{Arg: 1}, Label: "arg1", Use: api.ArgUse{Kind: api.ArgBuffer, Len: 2}}
	path := EditTarget{Edit: api.Edit{Arg: 1}, Label: "arg1", Use: api.ArgUse{Kind: api.ArgString, Len: -1}}
	flags := EditTarget{Edit: api.Edit{Arg: 2}, Label: "arg2", Use: api.ArgUse{Kind: api.ArgValue, Len: -1}}
	reg := EditTarget{Edit: api.Edit{Reg: "rax"}, Label: "rax", Use: api.ArgUse{Kind: api.ArgValue, Len: -1}}
	ret := EditTarget{Edit: api.Edit{Ret: true}, Label: "ret", Use: api.ArgUse{Kind: api.ArgValue, Len: -1}}
	cases := []struct {
		target EditTarget
		in     string
		want   api.Edit
		err    error
	}{
		{buf, "0x10", api.Edit{Arg: 1, Value: 16}, nil},
		{buf, "-1", api.Edit{Arg: 1, Value: ^uint64(0)}, nil},
		{buf, `"a\n\x00"`, api.Edit{Arg: 1, Data: []byte("a\n\x00")}, nil},
		{buf, `x"48 65 6c"`, api.Edit{Arg: 1, Data: []byte("Hel")}, nil},
		{buf, `x"48656c6c6f"`, api.Edit{Arg: 1, Data: []byte("Hello")}, nil},
		{buf, `""`, api.Edit{Arg: 1, Data: []byte{}}, nil},
		{path, ` "/etc/hostname" `, api.Edit{Arg: 1, Data: []byte("/etc/hostname"), String: true}, nil},
		{path, `x"2f 74 6d 70"`, api.Edit{Arg: 1, Data: []byte("/tmp"), String: true}, nil},
		{reg, "42", api.Edit{Reg: "rax", Value: 42}, nil},
		{ret, "-2", api.Edit{Ret: true, Value: ^uint64(1)}, nil},
		{reg, `"text"`, api.Edit{}, ErrNotPointer},
		{ret, `x"00"`, api.Edit{}, ErrNotPointer},
		{flags, `"O_RDWR"`, api.Edit{}, ErrNotPointer},
		{buf, "zz", api.Edit{}, ErrBadValue},
		{buf, `"unterminated`, api.Edit{}, ErrBadValue},
		{buf, `x"4"`, api.Edit{}, ErrBadValue},
		{buf, `x"zz"`, api.Edit{}, ErrBadValue},
		{buf, `x"48`, api.Edit{}, ErrBadValue},
	}
	for _, c := range cases {
		got, err := ParseEdit(c.target, c.in)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("ParseEdit(%s, %q) error = %v, want %v", c.target.Label, c.in, err, c.err)
			}
			continue
		}
		if err != nil || got.Arg != c.want.Arg || got.Reg != c.want.Reg || got.Ret != c.want.Ret || got.Value != c.want.Value ||
			got.String != c.want.String || string(got.Data) != string(c.want.Data) || (got.Data == nil) != (c.want.Data == nil) {
			t.Errorf("ParseEdit(%s, %q) = %+v, %v; want %+v", c.target.Label, c.in, got, err, c.want)
		}
	}
}

// TestLenQuestion: a buffer edit of another length asks, showing the bytes
// and the length before and after; one of the same length does not.
func TestLenQuestion(t *testing.T) {
	h := &api.Held{Call: uitest.Script()[4].Enter(1, uitest.Epoch)} // write(1, "\x1b[2J", 4)
	target := EditTarget{Edit: api.Edit{Arg: 1}, Label: "arg1", Use: api.ArgUse{Kind: api.ArgBuffer, Len: 2}}
	e := api.Edit{Arg: 1, Data: []byte("new\tbytes")}
	if !NeedsLen(target, e, h) {
		t.Fatal("9 bytes for a count of 4: no question")
	}
	if got, want := LenQuestion(target, e, h), `write arg1 "new\tbytes" (9 bytes) and arg2 (its length) 4 -> 9? [y/n] `; got != want {
		t.Errorf("question %q\n want %q", got, want)
	}
	if NeedsLen(target, api.Edit{Arg: 1, Data: []byte("four")}, h) {
		t.Error("4 bytes for a count of 4: a question")
	}
	if yes, err := ParseAnswer(" Y "); !yes || err != nil {
		t.Errorf("Y: %v %v", yes, err)
	}
	if _, err := ParseAnswer("maybe"); err == nil {
		t.Error("maybe is an answer")
	}
}

func TestPromptTakesTextAndCancels(t *testing.T) {
	p := NewPrompt(testCommon(t))
	p.Open("/", "ab", "why")
	p.Update(tea.KeyMsg{Type: tea.KeyBackspace})
	p.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("c\x1bd")})
	_, cmd := p.Update(tea.KeyMsg{Type: tea.KeyEnter})
	if msg := cmd().(PromptMsg); msg.Value != "ac?d" || msg.For != "why" || p.Opened() {
		t.Fatalf("prompt gave %+v (open %v), want \"ac?d\" for \"why\", closed", msg, p.Opened())
	}
	p.Open("/", "x", nil)
	if _, cmd := p.Update(tea.KeyMsg{Type: tea.KeyEsc}); cmd != nil || p.Opened() {
		t.Fatal("esc did not cancel the prompt")
	}
}

func TestStatusBarFits(t *testing.T) {
	st := testCommon(t).Styles
	s := Status{Info: api.Info{Domain: "lab", Listener: "gdbstub", Kernel: "Linux \x1b]0;x"}, Stats: api.Stats{Events: 12, Dropped: 3, Paused: true}, Rate: 1234.4}
	for _, w := range []int{20, 80, 200} {
		bar := StatusBar(st, w, s)
		if got := len([]rune(bar)); got != w {
			t.Errorf("width %d: bar is %d wide: %q", w, got, bar)
		}
		if strings.Contains(bar, "\x1b") {
			t.Errorf("raw escape in %q", bar)
		}
	}
	if bar := StatusBar(st, 120, s); !strings.Contains(bar, "1234 ev/s | total 12 | dropped 3") || !strings.Contains(bar, "paused") {
		t.Errorf("bar %q", bar)
	}
	s.Info.Replay = "/home/t/lab\x1b[2J.nitro"
	if bar := StatusBar(st, 120, s); !strings.Contains(bar, `lab | REPLAY lab\x1b[2J.nitro | Linux`) {
		t.Errorf("a replay's bar %q", bar)
	}
}
