package views

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"nitro/ui/calls"
	"nitro/ui/uitest"
)

// TestActivityJump: select on a row that stands for a call asks for it,
// on one that does not (a heading) asks nothing; the cursor stays on the
// rows, and on its row when the rows are laid out again.
func TestActivityJump(t *testing.T) {
	v := NewActivity(testCommon(t))
	v.SetSize(60, 4)
	v.SetFocused(true)
	v.Set(Findings, []ActivityRow{{Text: "ERROR x", Seq: 7}, {Text: "    #7 read", Seq: 7}, {Text: "no call"}, {Text: "    #9 write", Seq: 9}}, "2 (2 severe)")
	press(v, "j", "j", "j", "j", "j") // past the last row: it stays there
	_, cmd := v.Update(tea.KeyMsg{Type: tea.KeyEnter})
	if cmd == nil || cmd().(JumpMsg).Seq != 9 {
		t.Fatal("select on the last evidence row: no jump to 9")
	}
	press(v, "k")
	if _, cmd := v.Update(tea.KeyMsg{Type: tea.KeyEnter}); cmd != nil {
		t.Errorf("select on a row with no call asked %v", cmd())
	}
	v.Set(Findings, []ActivityRow{{Text: "ERROR x", Seq: 7}, {Text: "    #7 read", Seq: 7}, {Text: "no call"}}, "")
	if view := v.View(); !strings.Contains(view, "Findings") || !strings.Contains(view, "no call") {
		t.Errorf("view:\n%s", view)
	}
	v.Set(Files, nil, "0")
	if _, cmd := v.Update(tea.KeyMsg{Type: tea.KeyEnter}); cmd != nil {
		t.Error("select on an empty view asked for a call")
	}
}

// TestSelectSeq selects a call by its entry's seq, and refuses one the
// pane does not hold.
func TestSelectSeq(t *testing.T) {
	store := calls.New(100)
	v := NewSyscalls(testCommon(t), store)
	v.SetSize(80, 10)
	v.Add(uitest.Stream(1, 30)) // 15 calls, entries at odd seqs
	if !v.SelectSeq(5) || selectedSeq(t, v) != 5 || v.Following() {
		t.Errorf("SelectSeq(5): selected %d, following %v", selectedSeq(t, v), v.Following())
	}
	if v.SelectSeq(6) || v.SelectSeq(1000) {
		t.Error("selected a seq no row has")
	}
	if selectedSeq(t, v) != 5 {
		t.Error("a refused SelectSeq moved the selection")
	}
	// The newest call: selected and pinned, not followed past.
	if !v.SelectSeq(29) || v.Following() {
		t.Errorf("SelectSeq(29) on the last row: following %v", v.Following())
	}
	v.Add(uitest.Stream(31, 4))
	if selectedSeq(t, v) != 29 {
		t.Errorf("new calls moved the selection from 29 to %d", selectedSeq(t, v))
	}
}
