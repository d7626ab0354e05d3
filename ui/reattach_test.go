package ui_test

import (
	"fmt"
	"testing"

	"nitro/api"
	"nitro/ui/uitest"
)

// A session whose connection to the guest's host drops keeps its screen:
// the calls shown stay, the note says why with the re-attach key, changes
// are refused; r attaches again and the new session's calls, whose seqs
// start again from 1, follow those shown, and an edit names its call by the
// new session's seq.
func TestReattachAfterConnectionLost(t *testing.T) {
	f := start(t, "lab", 120, 30, uitest.Stream(1, 4))
	f.waitFor("Syscalls 2 ", "total 4")
	old := f.s
	old.Lose(fmt.Errorf("%w: the connection to hv3 dropped; the guest runs on there, detached", api.ErrLost))
	f.waitFor("lost the connection to the remote nitro: the connection to hv3 dropped", "r re-attach")
	f.until("the lost session closed", func() bool {
		old.Lock()
		defer old.Unlock()
		return old.Closed
	})
	f.keys("b")
	f.waitFor("not attached: the connection dropped (r re-attaches)")

	next := uitest.NewSession()
	next.Send(uitest.Stream(1, 6))
	f.hv.Replace("lab", next)
	f.s = next
	f.keys("r")
	f.waitFor("re-attached to lab", "Syscalls 5 ", "seq 9 ") // 4 shown, then the new 1..6 as 5..10

	next.Hold(api.Held{Call: uitest.Script()[0].Enter(100, uitest.Epoch)})
	f.waitFor("HELD", "seq 104 ")
	f.keys("j", "e", "ctrl+u", `"/etc/hostname"`, "enter")
	if e := f.edits(1)[0]; e.Seq != 100 {
		t.Errorf("the edit names seq %d, want the new session's 100", e.Seq)
	}
}
