package traceformat

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"nitro/api"
	"nitro/core/backend/linux/strace"
)

var (
	cat   = api.Process{PID: 42, TID: 42, PPID: 1, Comm: "cat"}
	stamp = time.Date(2026, 11, 26, 0, 3, 35, 120, time.UTC)
)

// rendered fills in the texts the Linux back end adds to an event.
func rendered(sc *api.Syscall) *api.Syscall {
	sc.RetText = strace.Result(sc)
	return sc
}

func openat(dir api.Direction, ret int64, errno string) *api.Syscall {
	return rendered(&api.Syscall{
		Seq: 7, Time: stamp, VCPU: 1, Direction: dir, Nr: 257, Name: "openat", Process: cat,
		Args: []api.Arg{
			{Raw: 0xffffffffffffff9c, Text: "AT_FDCWD"},
			{Raw: 0x401000, Text: `"/etc/hostname"`},
			{Raw: 0, Text: "O_RDONLY"},
		},
		Ret: ret, Errno: errno, Matched: dir == api.Exit,
	})
}

// countingWriter records each Write call, to check one line is one call.
type countingWriter struct{ writes []string }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes = append(c.writes, string(p))
	return len(p), nil
}

func TestText(t *testing.T) {
	thread := cat
	thread.TID, thread.Comm = 43, "\x1b[31mevil\x07"
	unmatched := rendered(&api.Syscall{Direction: api.Exit, Nr: 0, Name: "read", Process: cat, Ret: 18,
		Args: []api.Arg{{Raw: 3, Text: "3"}}})
	exitGroup := rendered(&api.Syscall{Direction: api.Enter, Nr: 231, Name: "exit_group", Process: thread,
		Args: []api.Arg{{Raw: 0, Text: "0"}}})
	noArgs := rendered(&api.Syscall{Direction: api.Enter, Nr: 39, Name: "getpid", Process: cat})
	badText := openat(api.Exit, 3, "")
	badText.Args[1].Text = "\"\x1b[2J\""
	compat := rendered(&api.Syscall{Direction: api.Exit, ABI: api.I386, Nr: 5, Name: "open", Process: cat, Ret: 3,
		Matched: true, Args: []api.Arg{{Raw: 0x8049000, Text: `"/etc/hostname"`}, {Raw: 0, Text: "O_RDONLY"}}})
	injected := openat(api.Exit, -13, "EACCES")
	injected.Injected = true
	injected.RetText = "-1 EACCES (Permission denied) (INJECTED)"
	cases := []struct {
		sc   *api.Syscall
		want string
	}{
		{openat(api.Enter, 0, ""), `[42 cat] openat(AT_FDCWD, "/etc/hostname", O_RDONLY <unfinished ...>`},
		{openat(api.Exit, 3, ""), `[42 cat] openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3`},
		{openat(api.Exit, -2, "ENOENT"), `[42 cat] openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = -1 ENOENT (No such file or directory)`},
		{injected, `[42 cat] openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = -1 EACCES (Permission denied) (INJECTED)`},
		{unmatched, `[42 cat] <... read resumed>) = 18`},
		{exitGroup, `[42/43 \x1b[31mevil\x07] exit_group(0) = ?`},
		{noArgs, `[42 cat] getpid(<unfinished ...>`},
		{badText, `[42 cat] openat(AT_FDCWD, \"\x1b[2J\", O_RDONLY) = 3`},
		{compat, `[42 cat] i386:open("/etc/hostname", O_RDONLY) = 3`},
	}
	for _, c := range cases {
		var w countingWriter
		tw := NewText(&w)
		if err := tw.Write(c.sc); err != nil {
			t.Fatal(err)
		}
		if err := tw.Flush(); err != nil {
			t.Fatal(err)
		}
		if len(w.writes) != 1 || w.writes[0] != c.want+"\n" {
			t.Errorf("got %q\nwant %q", w.writes, c.want+"\n")
		}
	}
}

// TestTextPairs checks that an entry followed by its exit makes one line,
// and that calls of two threads interleaved show as unfinished and resumed,
// split as strace splits them: the buffer read fills, and what follows it,
// with the exit.
func TestTextPairs(t *testing.T) {
	other := cat
	other.PID, other.TID, other.Comm = 50, 50, "sh"
	read := func(p api.Process, dir api.Direction) *api.Syscall {
		buf := "0x7ffd0000"
		if dir == api.Exit {
			buf = `"hello"`
		}
		return rendered(&api.Syscall{Direction: dir, Nr: 0, Name: "read", Process: p, Ret: 5, Matched: dir == api.Exit,
			Args: []api.Arg{{Raw: 0, Text: "0"}, {Raw: 0x7ffd0000, Text: buf, Out: true}, {Raw: 128, Text: "128"}}})
	}
	var out bytes.Buffer
	tw := NewText(&out)
	for _, sc := range []*api.Syscall{
		openat(api.Enter, 0, ""), openat(api.Exit, 3, ""), // one call, one line
		read(cat, api.Enter), read(other, api.Enter), read(other, api.Exit), read(cat, api.Exit),
		openat(api.Enter, 0, ""), // still waiting at the end
	} {
		if err := tw.Write(sc); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	want := `[42 cat] openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3
[42 cat] read(0,  <unfinished ...>
[50 sh] read(0, "hello", 128) = 5
[42 cat] <... read resumed>"hello", 128) = 5
[42 cat] openat(AT_FDCWD, "/etc/hostname", O_RDONLY <unfinished ...>
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

// event is what a JSON line decodes to.
type event struct {
	Seq       uint64  `json:"seq"`
	Time      string  `json:"time"`
	VCPU      int     `json:"vcpu"`
	Direction string  `json:"direction"`
	ABI       string  `json:"abi"`
	Nr        uint64  `json:"nr"`
	Name      string  `json:"name"`
	PID       int     `json:"pid"`
	TID       int     `json:"tid"`
	PPID      int     `json:"ppid"`
	Comm      string  `json:"comm"`
	Args      []jarg  `json:"args"`
	Ret       *int64  `json:"ret"`
	Errno     *string `json:"errno"`
	Matched   *bool   `json:"matched"`
	RetText   *string `json:"ret_text"`
	Injected  bool    `json:"injected"`
}

type jarg struct{ Raw, Text string }

func decodeLine(t *testing.T, line []byte) event {
	t.Helper()
	var e event
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("line %q does not parse: %v", line, err)
	}
	return e
}

func TestJSON(t *testing.T) {
	var w countingWriter
	j := NewJSON(&w)
	enter := openat(api.Enter, 0, "")
	enter.Process.Comm = "\x1b]0;x\x07\"q\"\xff"
	compat := openat(api.Exit, 3, "")
	compat.ABI, compat.Nr, compat.Name = api.I386, 295, "openat"
	for _, sc := range []*api.Syscall{enter, openat(api.Exit, -2, "ENOENT"), compat} {
		if err := j.Write(sc); err != nil {
			t.Fatal(err)
		}
	}
	if len(w.writes) != 3 {
		t.Fatalf("%d writes, want 3", len(w.writes))
	}
	for _, l := range w.writes {
		if strings.Count(l, "\n") != 1 || !strings.HasSuffix(l, "\n") {
			t.Errorf("not one line: %q", l)
		}
		for i := 0; i < len(l)-1; i++ {
			if l[i] < 0x20 || l[i] > 0x7e {
				t.Errorf("byte %#x in %q", l[i], l)
			}
		}
	}
	e := decodeLine(t, []byte(w.writes[0]))
	if e.Seq != 7 || e.Time != "2026-11-26T00:03:35.000000120Z" || e.VCPU != 1 || e.Direction != "enter" || e.ABI != "x86_64" ||
		e.Nr != 257 || e.Name != "openat" || e.PID != 42 || e.TID != 42 || e.PPID != 1 {
		t.Errorf("enter decoded as %+v", e)
	}
	if e.Comm != `\x1b]0;x\x07\"q\"\xff` {
		t.Errorf("comm = %q, want it escaped", e.Comm)
	}
	if len(e.Args) != 3 || e.Args[0] != (jarg{"0xffffffffffffff9c", "AT_FDCWD"}) || e.Args[1].Text != `"/etc/hostname"` {
		t.Errorf("args = %+v", e.Args)
	}
	if e.Ret != nil || e.Errno != nil || e.Matched != nil || e.RetText != nil {
		t.Errorf("enter has exit fields: %+v", e)
	}
	if _, err := time.Parse(time.RFC3339Nano, e.Time); err != nil {
		t.Errorf("time %q is not RFC 3339: %v", e.Time, err)
	}
	x := decodeLine(t, []byte(w.writes[1]))
	if x.Direction != "exit" || x.Ret == nil || *x.Ret != -2 || x.Errno == nil || *x.Errno != "ENOENT" || x.Matched == nil || !*x.Matched ||
		x.RetText == nil || *x.RetText != "-1 ENOENT (No such file or directory)" || x.Injected {
		t.Errorf("exit decoded as %+v", x)
	}
	if c := decodeLine(t, []byte(w.writes[2])); c.ABI != "i386" || c.Nr != 295 {
		t.Errorf("32-bit call decoded as %+v", c)
	}
}

type failingWriter struct{}

var errDiskFull = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func TestWriteErrorsAndNew(t *testing.T) {
	for _, f := range Formats {
		w, err := New(f, failingWriter{})
		if err != nil {
			t.Fatalf("New(%q): %v", f, err)
		}
		if err := w.Write(openat(api.Exit, 3, "")); !errors.Is(err, errDiskFull) {
			t.Errorf("%s: error %v, want it to wrap the writer's", f, err)
		}
	}
	if _, err := New("xml", &bytes.Buffer{}); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("New(xml) error = %v", err)
	}
}

func FuzzJSON(f *testing.F) {
	f.Add("cat", "openat", `"/etc/x"`, "ENOENT", int64(-2), uint64(1<<63), true)
	f.Add("\x1b[2J\xff\x00", "\"bad\\name\n", "\x7f\u2028", "", int64(3), uint64(0), false)
	f.Fuzz(func(t *testing.T, comm, name, text, errno string, ret int64, raw uint64, exit bool) {
		sc := &api.Syscall{Name: name, Process: api.Process{Comm: comm}, Ret: ret, Errno: errno,
			Args: []api.Arg{{Raw: raw, Text: text}}, Time: stamp}
		if exit {
			sc.Direction = api.Exit
		}
		var buf bytes.Buffer
		if err := NewJSON(&buf).Write(sc); err != nil {
			t.Fatal(err)
		}
		e := decodeLine(t, buf.Bytes())
		if len(e.Args) != 1 || e.Args[0].Raw == "" {
			t.Fatalf("args lost: %+v", e)
		}
		buf.Reset()
		tw := NewText(&buf)
		if err := tw.Write(sc); err != nil {
			t.Fatal(err)
		}
		if err := tw.Flush(); err != nil {
			t.Fatal(err)
		}
		out := buf.Bytes()
		if bytes.Count(out, []byte("\n")) != 1 || out[len(out)-1] != '\n' {
			t.Fatalf("text is not one line: %q", out)
		}
		for _, c := range out[:len(out)-1] {
			if c < 0x20 || c > 0x7e {
				t.Fatalf("byte %#x in %q", c, out)
			}
		}
	})
}
