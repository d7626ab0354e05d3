package manual

import (
	"slices"
	"strings"
	"testing"
	"unicode"
)

func TestKnownPages(t *testing.T) {
	for _, c := range []struct{ call, page, summary string }{
		{"openat", "open", "open and possibly create a file"},
		{"read", "read", "read from a file descriptor"},
		{"rt_sigaction", "sigaction", "examine and change a signal action"},
		{"mmap2", "mmap2", "map files or devices into memory"},
		{"clock_gettime64", "clock_getres", "clock and time functions"}, // no page of its own: clock_gettime's
	} {
		p, ok := Lookup(c.call)
		if !ok {
			t.Errorf("%s: no page", c.call)
			continue
		}
		if p.Name != c.page || p.Summary != c.summary || Summary(c.call) != c.summary {
			t.Errorf("%s: page %q summary %q, want %q %q", c.call, p.Name, p.Summary, c.page, c.summary)
		}
	}
	if p, ok := Lookup("syscall_999"); ok || Summary("syscall_999") != "" {
		t.Errorf("an unknown call has a page: %+v", p)
	}
}

// openat's page as man renders it: the roff markup is gone, the synopsis
// keeps its lines, paragraphs are whole lines, ERRORS reads per errno.
func TestOpenatPage(t *testing.T) {
	p, _ := Lookup("openat")
	if !strings.Contains(p.Synopsis, "int openat(int dirfd, const char *pathname, int flags);\n") {
		t.Errorf("synopsis:\n%s", p.Synopsis)
	}
	if strings.Contains(p.Synopsis, "Feature Test Macro") {
		t.Error("the synopsis keeps the feature test macros")
	}
	if !strings.HasPrefix(p.Description, "The open() system call opens the file specified by pathname.") {
		t.Errorf("description: %q", p.Description)
	}
	if !strings.Contains(p.Return, "return the new file descriptor") {
		t.Errorf("return value: %q", p.Return)
	}
	enoent := p.ErrorsFor("ENOENT")
	if !slices.Contains(enoent, "O_CREAT is not set and the named file does not exist.") {
		t.Errorf("ENOENT entries: %q", enoent)
	}
	if got := p.ErrorsFor("EBADF"); len(got) != 1 || !strings.HasPrefix(got[0], "(openat()) pathname is relative") {
		t.Errorf("EBADF entries: %q", got)
	}
	if p.ErrorsFor("ECHILD") != nil {
		t.Error("open(2) lists no ECHILD")
	}
}

// Several codes on one entry ("EAGAIN or EWOULDBLOCK"): each finds it.
func TestErrorsWithSeveralCodes(t *testing.T) {
	p, _ := Lookup("read")
	again, block := p.ErrorsFor("EAGAIN"), p.ErrorsFor("EWOULDBLOCK")
	if len(block) != 1 || !slices.Contains(again, block[0]) || len(again) != 2 {
		t.Errorf("EAGAIN %q, EWOULDBLOCK %q: want EWOULDBLOCK's entry among EAGAIN's two", again, block)
	}
}

func TestErrno(t *testing.T) {
	for name, want := range map[string]string{
		"ENOENT":      "No such file or directory",
		"EOPNOTSUPP":  "Operation not supported", // strace's name, as the API carries it
		"ERESTARTSYS": "To be restarted if SA_RESTART is set",
	} {
		if got, ok := Errno(name); !ok || got != want {
			t.Errorf("Errno(%s) = %q %v, want %q", name, got, ok, want)
		}
	}
	if _, ok := Errno("ERRNO_600"); ok {
		t.Error("an unnamed errno has a text")
	}
}

// The texts reach a terminal: nothing in them may control it.
func TestTextsAreText(t *testing.T) {
	for _, p := range pages {
		for _, s := range []string{p.name, p.summary, p.synopsis, p.desc, p.ret} {
			if strings.ContainsFunc(s, func(r rune) bool { return r != '\n' && unicode.IsControl(r) }) {
				t.Errorf("%s(2): a control character in %q", p.name, s)
			}
		}
	}
}

func TestFlags(t *testing.T) {
	for _, c := range []struct {
		text string
		want []string
	}{
		{"O_RDONLY|O_CLOEXEC", []string{"O_RDONLY", "O_CLOEXEC"}},
		{"PROT_READ|PROT_WRITE", []string{"PROT_READ", "PROT_WRITE"}},
		{"MAP_PRIVATE|MAP_ANONYMOUS", []string{"MAP_PRIVATE", "MAP_ANONYMOUS"}},
		{"flags=CLONE_VM|CLONE_FS|SIGCHLD", []string{"CLONE_VM", "CLONE_FS"}}, // SIGCHLD: not a flag of the table
		{"AT_FDCWD", []string{"AT_FDCWD"}},
		{"R_OK|W_OK", []string{"R_OK", "W_OK"}},
		{`"/tmp/O_CREAT\"O_EXCL"`, nil},                                   // a path, not flags
		{"O_RDONLY|O_RDONLY", []string{"O_RDONLY"}},                       // once each
		{"xO_CREAT|O_CREATx|0x41", nil},                                   // parts of other words
		{"{flags=CLONE_THREAD, exit_signal=0}", []string{"CLONE_THREAD"}}, // clone3's struct
	} {
		var got []string
		for _, f := range Flags(c.text) {
			if f.Meaning == "" {
				t.Errorf("%s: no meaning", f.Name)
			}
			got = append(got, f.Name)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("Flags(%q) = %q, want %q", c.text, got, c.want)
		}
	}
	if f := Flags("O_CREAT"); f[0].Meaning != "create the file if it does not exist" {
		t.Errorf("O_CREAT means %q", f[0].Meaning)
	}
}
