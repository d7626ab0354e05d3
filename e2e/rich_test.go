package e2e

import (
	"slices"
	"strings"
	"testing"

	"nitro/internal/lab"
)

// richGuests are the guests whose nitro-rich step the tests trace.
var richGuests = []lab.Guest{lab.Default, lab.Newer}

// richShows is what the guest's strace must show of nitro-rich
// (lab/guest/rich.c), so that a run that went another way fails rather
// than compares fewer calls: its thread and forks, the signal's return,
// the sockets, the directory read, the exec and each failure.
var richShows = []string{
	"clone3({flags=CLONE_VM|", "clone(child_stack=NULL, ", "rt_sigreturn({mask=[]}) = 0",
	"socketpair(AF_UNIX, SOCK_STREAM, 0, [", `accept(`, `inet_addr("127.0.0.1")`, "getdents64(",
	`execve("/bin/nitro-rich", ["nitro-rich", "exec", "known argv"], `, "mprotect(", "madvise(", "munmap(",
	"getrandom(", " ENOENT ", " ENOTDIR ", " EBADF ", " EINVAL ", " EFAULT ", " EAGAIN ", " ECHILD ", " ESRCH ",
}

// TestStraceRich compares nitro's text of nitro-rich's calls with the
// guest's own strace -f of them, call for call.
func TestStraceRich(t *testing.T) {
	lab.RequireRoot(t)
	for _, g := range richGuests {
		t.Run(g.Name, func(t *testing.T) { traceRich(t, g) })
	}
}

// traceRich compares nitro's text of a run of nitro-rich on g with the
// guest's strace, and checks that the run did all it does.
func traceRich(t *testing.T, g lab.Guest) {
	t.Helper()
	st := compareStraceText(t, g, richStep)
	var all []string
	for _, calls := range st.calls {
		all = append(all, calls...)
	}
	for _, s := range richShows {
		if !slices.ContainsFunc(all, func(c string) bool { return strings.Contains(c, s) }) {
			t.Errorf("strace shows no call of nitro-rich with %q", s)
		}
	}
	// nitro-rich exits 0 only when every call returned what it should.
	if main := st.calls[st.first]; len(main) == 0 || main[len(main)-1] != "exit_group(0) = ?" {
		t.Errorf("nitro-rich did not exit 0; strace shows %q", main)
	}
}
