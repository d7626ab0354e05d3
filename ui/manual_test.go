package ui_test

import (
	"strings"
	"testing"

	"nitro/ui/uitest"
)

// The manual key opens the selected call's man page over the panes (the
// newest call the filter keeps: the failed openat); the clear key closes
// it, and only it: the filter stays.
func TestManualOpensAndCloses(t *testing.T) {
	f := start(t, "lab", 100, 30, uitest.Stream(1, 30))
	f.waitFor("Syscalls 15 ", "total 30")
	f.keys("/", "ENOENT", "enter")
	f.waitFor("Syscalls 3/15")
	f.keys("m")
	f.waitFor("Manual: openat", "ENOENT: No such file or directory", "SYNOPSIS")
	f.keys("esc", "?") // the help: a key the closed manual lets through
	f.waitFor("manual of call")
	f.keys("?")
	screen := f.screen()
	if strings.Contains(screen, "Manual: openat") || !strings.Contains(screen, "Syscalls 3/15") {
		t.Errorf("esc did not close the manual alone:\n%s", screen)
	}
}
