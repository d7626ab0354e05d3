package ui_test

import (
	"strings"
	"testing"
	"time"

	"nitro/api"
	"nitro/ui/uitest"
)

// suspicious are a web server's child starting a shell, a module load,
// then a harmless call.
func suspicious() []api.Syscall {
	var evs []api.Syscall
	call := func(p api.Process, name string, ret int64, args ...api.Arg) {
		n := uint64(len(evs))
		enter := api.Syscall{Seq: n + 1, Time: uitest.Epoch.Add(time.Duration(n) * time.Millisecond), Name: name, Process: p, Args: args}
		exit := enter
		exit.Seq, exit.Direction, exit.Ret, exit.Matched, exit.RetText = n+2, api.Exit, ret, true, "0"
		exit.Time = exit.Time.Add(time.Microsecond)
		evs = append(evs, enter, exit)
	}
	call(api.Process{PID: 10, TID: 10, PPID: 1, Comm: "nginx"}, "getpid", 10)
	call(api.Process{PID: 11, TID: 11, PPID: 10, Comm: "sh"}, "execve", 0,
		api.Arg{Text: `"/bin/sh"`}, api.Arg{Text: `["sh", "-c", "id"]`}, api.Arg{Text: "0x7ffc /* 3 vars */"})
	call(api.Process{PID: 12, TID: 12, PPID: 1, Comm: "insmod"}, "finit_module", 0,
		api.Arg{Raw: 3, Text: "3"}, api.Arg{Text: `""`}, api.Arg{Text: "0"})
	call(api.Process{PID: 10, TID: 10, PPID: 1, Comm: "nginx"}, "getpid", 10)
	return evs
}

// TestFindingsPane: the status bar counts the findings, the triage key
// puts them on top with their evidence, and select on one jumps to its
// call in the syscall pane; the key goes on through the other views and
// back.
func TestFindingsPane(t *testing.T) {
	f := start(t, "lab", 120, 30, suspicious())
	f.waitFor("findings 2 (2 severe)")
	f.keys("t")
	f.waitFor("Findings 2 (2 severe)", "CRITICAL kernel_module_load  12 insmod", "#5  finit_module(3, \"\", 0) = 0",
		"WARNING  shell_spawned  11 sh", `#3  execve("/bin/sh"`)
	f.keys("enter") // the first finding: the module load
	f.waitFor("call #5")
	screen := f.screen()
	if !strings.Contains(screen, "Syscalls 4  scrolled") {
		t.Errorf("the syscall pane is not back on top, scrolled to the call:\n%s", screen)
	}
	if !strings.Contains(screen, "finit_module") || !strings.Contains(screen, "insmod") {
		t.Errorf("the inspector does not show the call jumped to:\n%s", screen)
	}
}

// TestActivityPanes steps through the activity views.
func TestActivityPanes(t *testing.T) {
	f := start(t, "lab", 120, 30, suspicious())
	f.waitFor("findings 2")
	f.keys("t", "t")
	f.waitFor("Files 0")
	f.keys("t")
	f.waitFor("Network 0")
	f.keys("t")
	f.waitFor("Exec lineage 3", "10 nginx", "  11 sh  [\"sh\", \"-c\", \"id\"]", "12 insmod")
	f.keys("t")
	f.waitFor("Syscalls 4")
}
