package ui

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"nitro/api"
	"nitro/record"
	"nitro/record/recordtest"
	"nitro/replay"
	"nitro/ui/uitest"
	"nitro/ui/views"
)

// These tests drive the root model by hand: Update, and the Cmds a
// program would run, run here one at a time, so what the screen shows
// after each key does not race the session.

// late is a process the recording's snapshot before its call 200 shows
// first.
var late = api.Process{PID: 300, TID: 300, PPID: 1, Comm: "late"}

// recording writes uitest.Stream's 400 events of domain lab, with uitest's
// processes and, from call 200 on, late too; it returns the file's path.
func recording(t *testing.T) string {
	t.Helper()
	meta := record.Meta{Domain: "lab", OS: "linux", Kernel: "Linux 6.1.0-28-amd64", Listener: "gdbstub", Start: uitest.Epoch}
	return recordtest.Write(t, meta, uitest.Stream(1, 400),
		recordtest.Snapshot{Before: 0, Procs: uitest.Procs},
		recordtest.Snapshot{Before: 199, Procs: append(slices.Clone(uitest.Procs), late)})
}

// driver is a Model run by hand, attached to sess.
type driver struct {
	t *testing.T
	m *Model
}

func drive(t *testing.T, sess api.Session) *driver {
	t.Helper()
	m := New(context.Background(), Options{Hypervisor: uitest.NewHypervisor(), Keys: *uitest.Keys(), Refresh: time.Hour})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	m.Update(views.AttachMsg{Name: "lab", Session: sess}) // its Cmds are not run: the test runs the session
	if m.att == nil {
		t.Fatal("not attached")
	}
	t.Cleanup(func() { m.Close() })
	return &driver{t: t, m: m}
}

// replayed is a driver on a replay of recording(), played at speed,
// lingering at its end.
func replayed(t *testing.T, speed float64) *driver {
	t.Helper()
	h, err := replay.Open(recording(t), replay.Options{Speed: speed, Linger: true})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := h.Attach(context.Background(), "lab", api.AttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := drive(t, sess)
	go sess.Run(context.Background())
	return d
}

// run runs cmd, failing the test rather than hanging on it.
func (d *driver) run(cmd tea.Cmd) tea.Msg {
	d.t.Helper()
	if cmd == nil {
		return nil
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	select {
	case msg := <-done:
		return msg
	case <-time.After(10 * time.Second):
		d.t.Fatal("a Cmd did not return")
		return nil
	}
}

// do hands msg to Update and runs what it asks, down to the next wait on
// the session, which it leaves to the test.
func (d *driver) do(msg tea.Msg) {
	d.t.Helper()
	switch msg := msg.(type) {
	case nil:
	case tea.BatchMsg:
		for _, cmd := range msg {
			d.do(d.run(cmd))
		}
	case batchMsg, heldMsg, recStartedMsg: // what Update asks then is the next wait
		d.m.Update(msg)
	default:
		_, cmd := d.m.Update(msg)
		d.do(d.run(cmd))
	}
}

// keys types ks, one key each, "enter" being the enter key.
func (d *driver) keys(ks ...string) {
	d.t.Helper()
	for _, k := range ks {
		msg := tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
		if k == "enter" {
			msg = tea.KeyMsg{Type: tea.KeyEnter}
		}
		d.do(msg)
	}
}

// pumpTo hands the UI the session's batches until it has had the call of
// sequence number seq.
func (d *driver) pumpTo(seq uint64) {
	d.t.Helper()
	for {
		msg, ok := d.run(d.m.att.waitBatch()).(batchMsg)
		if !ok || msg.end {
			d.t.Fatalf("the session ended before call %d", seq)
		}
		d.m.Update(msg)
		last := msg.batches[len(msg.batches)-1]
		if n := len(last); n > 0 && last[n-1].Seq >= seq {
			return
		}
	}
}

// at checks that the playback is at seq, shown on the status bar, with the
// selected row the call of entry seq row, named name.
func (d *driver) at(seq, row uint64, name string) {
	d.t.Helper()
	a := d.m.att
	if a.pos.Seq != seq {
		d.t.Errorf("at %d, want %d", a.pos.Seq, seq)
	}
	if r, ok := a.syscalls.Selected(); !ok || r.Call.Seq != row || r.Call.Name != name {
		d.t.Errorf("selected row %+v, want %s of seq %d", r, name, row)
	}
	if want := "| seq " + strconv.FormatUint(seq, 10) + " @"; !strings.Contains(d.m.View(), want) {
		d.t.Errorf("no %q on the status bar:\n%s", want, d.m.View())
	}
}

// TestReplayStep: the step keys move the playback one call back and on,
// and the last row, selected, is that call.
func TestReplayStep(t *testing.T) {
	d := replayed(t, 0)
	d.pumpTo(400)
	d.keys(",")
	d.at(399, 399, "read") // the entry of the last call: its exit is ahead
	if r, _ := d.m.att.syscalls.Selected(); r.Done {
		t.Error("a step back from a call's exit shows the call finished")
	}
	d.keys(",")
	d.at(398, 397, "openat")
	d.keys(".")
	d.pumpTo(399)
	d.at(399, 399, "read")
	if screen := d.m.View(); !strings.Contains(screen, "seq 399 @398ms of 400 calls/399ms | max speed") {
		t.Errorf("the status bar lacks the position and length:\n%s", screen)
	}
}

// TestReplaySeek: a jump to a seq shows that call last, the calls before
// it, and the process tree as it was then.
func TestReplaySeek(t *testing.T) {
	d := replayed(t, 0)
	d.pumpTo(400)
	d.keys(":", "1", "5", "0", "enter")
	d.at(150, 149, "openat")
	if n := d.m.att.store.Kept(); n != 75 {
		t.Errorf("%d rows after a jump to call 150, want 75", n)
	}
	if strings.Contains(d.m.View(), "late") {
		t.Errorf("at call 150 the tree shows a process recorded from call 200 on:\n%s", d.m.View())
	}
	d.keys(":", "3", "0", "0", "enter")
	d.at(300, 299, "close")
	if !strings.Contains(d.m.View(), "late") {
		t.Errorf("at call 300 the tree lacks the process recorded from call 200 on:\n%s", d.m.View())
	}
	d.keys(":", "+", "9", "9", "m", "s", "enter") // a hundredth of a second on
	d.at(100, 99, "read")
	if strings.Contains(d.m.View(), "late") {
		t.Errorf("back at call 100 the tree still shows a process recorded from call 200 on:\n%s", d.m.View())
	}
	d.keys(":", "x", "enter")
	if !strings.Contains(d.m.note, "bad jump") || d.m.att.pos.Seq != 100 {
		t.Errorf("a bad jump: note %q, at %d", d.m.note, d.m.att.pos.Seq)
	}
}

// TestReplayNextMatch: n moves to the next call the filter keeps, a call
// at its entry, not again at its exit.
func TestReplayNextMatch(t *testing.T) {
	d := replayed(t, 0)
	d.pumpTo(400)
	d.keys("n")
	if !strings.Contains(d.m.note, "no filter") {
		t.Errorf("n with no filter: note %q", d.m.note)
	}
	d.keys(":", "1", "0", "0", "enter", "/", "s", "y", "s", ":", "m", "m", "a", "p", "enter")
	d.keys("n")
	d.at(103, 103, "mmap")
	d.keys("n")
	d.at(115, 115, "mmap")
	d.keys(":", "3", "9", "7", "enter", "n")
	if !strings.Contains(d.m.note, "no call after this one matches") || d.m.att.pos.Seq != 397 {
		t.Errorf("n past the last match: note %q, at %d", d.m.note, d.m.att.pos.Seq)
	}
}

// TestReplayBreak: a break armed on a call stops the playback at the next
// call of that name, the calls before it played.
func TestReplayBreak(t *testing.T) {
	d := replayed(t, 0)
	d.pumpTo(400)
	d.keys(":", "1", "enter", "b", "p") // the first call: cat's openat
	d.pumpTo(4)
	d.do(d.run(d.m.att.waitHeld()))
	h := d.m.att.insp.Held()
	if h == nil || h.Call.Seq != 5 || h.Call.Name != "openat" || h.Call.Process.PID != 42 {
		t.Fatalf("held %+v, want sh's openat of seq 5", h)
	}
	if !strings.Contains(d.m.note, "break: openat held in sh[42]") || d.m.att.pos.Seq != 4 {
		t.Errorf("note %q, at %d", d.m.note, d.m.att.pos.Seq)
	}
}

// TestReplaySpeed: the speed keys go up and down the speeds, and the
// status bar says which.
func TestReplaySpeed(t *testing.T) {
	d := replayed(t, 1)
	d.m.att.syncPosition()
	for _, c := range []struct{ key, want string }{{"+", "x2"}, {"-", "x1"}, {"-", "x0.5"}} {
		d.keys(c.key)
		if bar := d.m.View(); !strings.Contains(bar, "| "+c.want+" ") {
			t.Errorf("after %s: no %s on the status bar:\n%s", c.key, c.want, bar)
		}
	}
	if got := d.m.att.pb.Position().Speed; got != 0.5 {
		t.Errorf("the session plays at %g, want 0.5", got)
	}
	for range 20 {
		d.keys("+")
	}
	if !strings.Contains(d.m.View(), "| max speed") || d.m.att.pb.Position().Speed != 0 {
		t.Errorf("faster and faster does not end at max speed:\n%s", d.m.View())
	}
}

// TestPlaybackKeysOnlyInAReplay: the help names the playback keys in a
// replay, the record key on a live guest, and not the other way round.
func TestPlaybackKeysOnlyInAReplay(t *testing.T) {
	d := replayed(t, 0)
	d.m.showHelp = true
	if screen := d.m.View(); !strings.Contains(screen, "step a call back") || strings.Contains(screen, "record to a file") {
		t.Errorf("a replay's help:\n%s", screen)
	}
	d.m.showHelp = false
	if screen := d.m.View(); !strings.Contains(screen, ". step a call") {
		t.Errorf("a replay's hints lack the step key:\n%s", screen)
	}
	live := drive(t, uitest.NewSession())
	live.m.showHelp = true
	if screen := live.m.View(); strings.Contains(screen, "step a call") || !strings.Contains(screen, "record to a file") {
		t.Errorf("a live guest's help:\n%s", screen)
	}
}
