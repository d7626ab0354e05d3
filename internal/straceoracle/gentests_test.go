package main

import (
	"strings"
	"testing"
)

// genTests is a few lines of strace 6.1's tests/gen_tests.in, one of each form.
const genTests = `# Input for gen_tests.sh
alarm	-a10
getrandom	-a22 -s3 "QUIRK:START-OF-TEST-OUTPUT:getrandom(NULL, 0, 0)"
chdir
aio	-a14 -e trace=io_setup,io_submit,io_getevents,io_cancel,io_destroy
clock_nanosleep	-e trace=clock_nanosleep,clock_gettime
fstat	-a15 -v -P stat.sample -P /dev/full
ioctl_block	+ioctl.test
ioctl_evdev-v	+ioctl.test -v
prctl-dumpable	+prctl.sh -a23
getgid	+getuid.test
getgid-creds	+getuid.test
clock	test_trace_expr 'times|times-.*|fcntl.*' -e/clock
bpf-success	-einject=bpf:retval=42 -etrace=bpf -a20
sched	test_trace_expr times -e/sched
execve-v	-a29 -v -e trace=execve
io_uring_setup	-a26 -y
kill_child	-esignal=none -qq -f -e trace=kill
times	-esignal=none
pkey_alloc	-a17 --trace=/pkey_.*
inotify	-a23 -e trace=%file
xetpgid	QUIRK:PROG-ARGS:1 -a11 -e trace=getpgid,setpgid
`

func TestSelect(t *testing.T) {
	tests, err := parseGenTests(strings.NewReader(genTests))
	if err != nil {
		t.Fatal(err)
	}
	skips := map[string]string{
		"getrandom":       "option -s",
		"fstat":           "option -v",
		"ioctl_evdev-v":   "option -v",
		"getgid-creds":    "option -e trace=%class",
		"clock":           "driver function test_trace_expr",
		"bpf-success":     "fault injection (-e inject=)",
		"execve-v":        "option -v",
		"io_uring_setup":  "option -y",
		"kill_child":      "option -e signal",
		"times":           "option -e signal",
		"inotify":         "option -e trace=%class",
		"sched":           "driver function test_trace_expr",
		"alarm":           "",
		"chdir":           "",
		"aio":             "",
		"clock_nanosleep": "",
		"ioctl_block":     "",
		"prctl-dumpable":  "",
		"getgid":          "",
		"pkey_alloc":      "",
		"xetpgid":         "",
	}
	if len(tests) != len(skips) {
		t.Errorf("%d tests read, want %d", len(tests), len(skips))
	}
	for name, want := range skips {
		if got := tests[name].skip; got != want {
			t.Errorf("%s: skip %q, want %q", name, got, want)
		}
	}
	traced := []struct {
		test, call string
		want       bool
	}{
		{"alarm", "alarm", true},
		{"alarm", "write", false},
		{"aio", "io_submit", true},
		{"aio", "aio", false},
		{"ioctl_block", "ioctl", true},
		{"ioctl_block", "ioctl_block", false},
		{"prctl-dumpable", "prctl", true},
		{"getgid", "getgid", true},
		{"pkey_alloc", "pkey_free", true},
		{"pkey_alloc", "mmap", false},
		{"xetpgid", "setpgid", true},
	}
	for _, c := range traced {
		if got := tests[c.test].trace.match(c.call); got != c.want {
			t.Errorf("%s traces %s: %v, want %v", c.test, c.call, got, c.want)
		}
	}
	if got := tests["xetpgid"].args; got != "1" {
		t.Errorf("xetpgid's arguments: %q, want 1", got)
	}
	if !tests["getgid"].uniq || tests["ioctl_block"].drop == nil || tests["prctl-dumpable"].dropThrough == nil {
		t.Error("the driver scripts' edits are not taken")
	}
}

func TestShellWords(t *testing.T) {
	got, err := shellWords(`-a22 -s3 "QUIRK:START-OF-TEST-OUTPUT:getrandom(NULL, 0, 0)" 'a b'\ c x\"y "q\"z"`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"-a22", "-s3", "QUIRK:START-OF-TEST-OUTPUT:getrandom(NULL, 0, 0)", "a b c", `x"y`, `q"z`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := shellWords(`"open`); err == nil {
		t.Error("an unterminated quote is taken")
	}
}
