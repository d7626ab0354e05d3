package ui_test

import (
	"testing"

	"nitro/api"
	"nitro/ui/uitest"
)

// TestBreakpointKindShown: the status bar names the kind of breakpoints
// that stops the guest, and the message line says why they are software
// ones where hardware ones were asked for.
func TestBreakpointKindShown(t *testing.T) {
	f := start(t, "", 120, 24, uitest.Stream(1, 12))
	f.s.SetStats(api.Stats{Events: 12, Breakpoints: api.BreakpointsMixed,
		BreakpointNote: "software breakpoints beyond x86's 4 debug registers"})
	f.waitFor("lab")
	f.keys("j", "enter")
	f.waitFor("| gdbstub hw+sw |", "software breakpoints beyond x86's 4 debug registers")
	golden(t, f.screen())
}
