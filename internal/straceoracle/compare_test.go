package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// console is a round as the strace-tests guest prints it: a run whose
// start nitro missed, a kernel message between two runs, and a failed run
// whose output does not end its last line.
const console = "out of a run before\r\n" +
	"nitro-strace-tests: done chdir\r\n" +
	"nitro-strace-tests: run alarm pid 101 status 0\r\n" +
	"alarm(42) = 0\r\n" +
	"--- SIGALRM {si_signo=SIGALRM} ---\r\n" +
	"+++ exited with 0 +++\r\n" +
	"nitro-strace-tests: done alarm\r\n" +
	"[   12.5] random: crng init done\r\n" +
	"nitro-strace-tests: run getuid pid 105 status 77\r\n" +
	"getuid() = 0nitro-strace-tests: stderr getuid\r\n" +
	"getuid: skipped\r\n" +
	"nitro-strace-tests: done getuid\r\n" +
	"nitro-strace-tests: run umask pid 110 status 0\r\n"

func TestParseRuns(t *testing.T) {
	var p runParser
	// Fed as it grows, cut anywhere.
	for i := 0; i < len(console); i += 7 {
		p.feed(console[i:min(i+7, len(console))])
	}
	runs := p.runs
	if len(runs) != 2 {
		t.Fatalf("%d runs, want 2: %+v", len(runs), runs)
	}
	a, g := runs[0], runs[1]
	if a.name != "alarm" || a.pid != 101 || a.status != 0 || len(a.out) != 3 || a.out[0] != "alarm(42) = 0" {
		t.Errorf("alarm's run: %+v", a)
	}
	if g.name != "getuid" || g.pid != 105 || g.status != 77 || !slices.Equal(g.out, []string{"getuid() = 0"}) || !slices.Equal(g.err, []string{"getuid: skipped"}) {
		t.Errorf("getuid's run: %+v", g)
	}
	want, signals := expected(a)
	if !slices.Equal(want, []string{"alarm(42) = 0"}) || signals != 1 {
		t.Errorf("expected lines %q, %d signals; want alarm's call and 1", want, signals)
	}
}

// trace is nitro's text for two processes and a thread: the program's
// calls, one split by another task's, with the shell's before its exec.
const trace = `[101 sh] rt_sigprocmask(SIG_SETMASK, [], NULL, 8) = 0
[101 sh] execve("/bin/timeout", ["timeout", "60", "/strace-tests/alarm"], 0x7ffd1000 /* 2 vars */) = 0
[101 timeout] alarm(7) = 0
[101 timeout] execve("/strace-tests/alarm", ["/strace-tests/alarm"], 0x7ffd2000 /* 2 vars */) = 0
[101 alarm] brk(NULL) = 0x55d000
[101 alarm] alarm(42 <unfinished ...>
[102 timeout] nanosleep({tv_sec=1, tv_nsec=0}, <unfinished ...>
[101/103 alarm] alarm(1) = 0
[101 alarm] <... alarm resumed>) = 0
[101 alarm] exit_group(0) = ?
`

func TestNitroLines(t *testing.T) {
	var p callParser
	p.feed(trace[:100])
	p.feed(trace[100:])
	calls := p.calls
	if n := len(calls[101]); n != 7 {
		t.Errorf("pid 101: %d calls, want 7: %q", n, calls[101])
	}
	f, _ := parseFilter("alarm,exit_group")
	got, ok := nitroLines(test{name: "alarm", trace: f}, calls[101])
	if want := []string{"alarm(42) = 0", "exit_group(0) = ?"}; !ok || !slices.Equal(got, want) {
		t.Errorf("alarm's lines: %q (%v), want %q", got, ok, want)
	}
	if _, ok := nitroLines(test{name: "chdir", trace: f}, calls[101]); ok {
		t.Error("a program nitro did not see exec'd is taken as seen")
	}
}

func TestDriverEdits(t *testing.T) {
	calls := []string{
		`execve("/strace-tests/p", ["/strace-tests/p"], 0x7ffd2000 /* 2 vars */) = 0`,
		`ioctl(1, TCGETS, 0x7ffd) = -1 ENOTTY (Inappropriate ioctl for device)`,
		`ioctl(3, BLKRRPART)         = -1 EBADF (Bad file descriptor)`,
		`ioctl(3, BLKRRPART) = -1 EBADF (Bad file descriptor)`,
		`ioctl(4, BLKFLSBUF) = -1 EBADF (Bad file descriptor)`,
	}
	f, _ := parseFilter("ioctl")
	cases := []struct {
		t    test
		want []string
	}{
		{test{drop: drivers["ioctl.test"].drop}, []string{calls[3], calls[3], calls[4]}},
		{test{uniq: true}, []string{calls[1], calls[3], calls[4]}},
		{test{start: regexp.MustCompile(regexp.QuoteMeta("ioctl(4,"))}, []string{calls[4]}},
		{test{dropThrough: regexp.MustCompile(`^ioctl\(3, `)}, []string{calls[3], calls[4]}},
	}
	for i, c := range cases {
		c.t.name, c.t.trace = "p", f
		if got, _ := nitroLines(c.t, calls); !slices.Equal(got, c.want) {
			t.Errorf("case %d: %q, want %q", i, got, c.want)
		}
	}
}

func TestCompare(t *testing.T) {
	want := []string{"umask(000) = 022", "umask(06) = 0"}
	if d := compare(want, want); d != nil {
		t.Errorf("equal lines differ: %+v", d)
	}
	d := compare(want, []string{"umask(000) = 022", "umask(06|0xffff0000) = 0"})
	if d == nil || d.line != 2 || d.cause() != "an argument shown otherwise" {
		t.Errorf("a different line: %+v", d)
	}
	d = compare(want, want[:1])
	if d == nil || d.line != 2 || !strings.HasPrefix(d.cause(), "nitro shows no umask line") {
		t.Errorf("a missing line: %+v", d)
	}
}

func TestCause(t *testing.T) {
	cases := []struct{ want, got, cause string }{
		{`ioctl(-1, BLKBSZGET, NULL) = -1 EBADF (Bad file descriptor)`, `ioctl(-1, 0x80081270, 0) = -1 EBADF (Bad file descriptor)`,
			"a constant or flags strace names, nitro shows as a number"},
		{`getresuid([0], [0], [0]) = 0`, `getresuid(0x7f7a7e004ffc, 0x7f7a7dffeffc, 0x7f7a7dff8ffc) = 0`,
			"a structure, array or string nitro shows as a pointer"},
		{`setuid(-1) = -1 EINVAL (Invalid argument)`, `setuid(4294967295) = -1 EINVAL (Invalid argument)`,
			"a number in another base or width"},
		{`chdir("\t\16 hi") = -1 ENOENT (No such file or directory)`, `chdir("\t\x0e hi") = -1 ENOENT (No such file or directory)`,
			"bytes strace escapes in octal, nitro in hex"},
		{`rt_sigprocmask(SIG_SETMASK, 0x7f96ab1f4ff0, NULL, 16) = -1 EINVAL (Invalid argument)`, `rt_sigprocmask(SIG_SETMASK, ~[], NULL, 16) = -1 EINVAL (Invalid argument)`,
			"a pointer strace does not follow, nitro decodes"},
		{`time(NULL) = 1796197769 (2026-12-02T07:49:29+0000)`, `time(NULL) = 1796197769`, "the return shown otherwise"},
		{`f(a, "x, (y", {b, c}) = 0`, `f(a, "x, (y", {b, c}, d) = 0`, "a different number of arguments"},
	}
	for _, c := range cases {
		if got := compare([]string{c.want}, []string{c.got}).cause(); got != c.cause {
			t.Errorf("%s\nagainst %s: %q, want %q", c.want, c.got, got, c.cause)
		}
	}
}
