package api

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseInjection(t *testing.T) {
	for _, c := range []struct {
		spec string
		want Injection
		text string // String(), when it differs from spec
	}{
		{"openat:error=ENOENT", Injection{Names: []string{"openat"}, Errno: "ENOENT"}, ""},
		{"openat:error=ENOENT:when=3+", Injection{Names: []string{"openat"}, Errno: "ENOENT", When: When{First: 3, Step: 1}}, ""},
		{"write:retval=42", Injection{Names: []string{"write"}, Retval: 42}, ""},
		{"write:retval=0x2a", Injection{Names: []string{"write"}, Retval: 42}, "write:retval=42"},
		{"write:retval=-1", Injection{Names: []string{"write"}, Retval: -1}, ""},
		{"write:retval=18446744073709551615", Injection{Names: []string{"write"}, Retval: -1}, "write:retval=-1"},
		{"openat,open:error=13", Injection{Names: []string{"openat", "open"}, Errno: "13"}, ""},
		{"openat:error=EACCES:when=2", Injection{Names: []string{"openat"}, Errno: "EACCES", When: When{First: 2}}, ""},
		{"read:error=EIO:when=2+3", Injection{Names: []string{"read"}, Errno: "EIO", When: When{First: 2, Step: 3}}, ""},
		{"read:error=EIO:when=2..5", Injection{Names: []string{"read"}, Errno: "EIO", When: When{First: 2, Last: 5, Step: 1}}, ""},
		{"read:error=EIO:when=2..5+", Injection{Names: []string{"read"}, Errno: "EIO", When: When{First: 2, Last: 5, Step: 1}}, "read:error=EIO:when=2..5"},
		{"read:error=EIO:when=2..9+3", Injection{Names: []string{"read"}, Errno: "EIO", When: When{First: 2, Last: 9, Step: 3}}, ""},
		{"read:error=EIO:when=65535", Injection{Names: []string{"read"}, Errno: "EIO", When: When{First: 65535}}, ""},
		// As in strace, the last when= counts, and empty options are skipped.
		{"read:when=4:error=EIO:when=1+", Injection{Names: []string{"read"}, Errno: "EIO", When: When{First: 1, Step: 1}}, "read:error=EIO:when=1+"},
		{"read::error=EIO", Injection{Names: []string{"read"}, Errno: "EIO"}, "read:error=EIO"},
		{"!read,write:error=EPERM", Injection{Names: []string{"read", "write"}, Not: true, Errno: "EPERM"}, ""},
		{"!!read:error=EPERM", Injection{Names: []string{"read"}, Errno: "EPERM"}, "read:error=EPERM"},
		{"all:error=ENOSYS", Injection{Not: true, Errno: "ENOSYS"}, ""},
		{"!none:error=ENOSYS", Injection{Not: true, Errno: "ENOSYS"}, "all:error=ENOSYS"},
		// nitro's own options.
		{"openat:error=ENOENT:pid=93:count=1", Injection{Names: []string{"openat"}, Errno: "ENOENT", PID: 93, Count: 1}, ""},
	} {
		got, err := ParseInjection(c.spec)
		if err != nil {
			t.Errorf("%q: %v", c.spec, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: %+v, want %+v", c.spec, got, c.want)
		}
		text := c.text
		if text == "" {
			text = c.spec
		}
		if got.String() != text {
			t.Errorf("%q reads back as %q, want %q", c.spec, got.String(), text)
		}
		if err := got.Check(); err != nil {
			t.Errorf("%q: Check: %v", c.spec, err)
		}
		// What String writes parses to the same injection.
		if again, err := ParseInjection(got.String()); err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("%q: String %q parses to %+v, %v", c.spec, got.String(), again, err)
		}
	}
}

func TestParseInjectionErrors(t *testing.T) {
	for spec, says := range map[string]string{
		"":                                     "selects no system call",
		":error=EIO":                           "selects no system call",
		"none:error=EIO":                       "selects no system call",
		"!all:error=EIO":                       "selects no system call",
		"openat":                               "needs error=ERRNO or retval=VALUE",
		"openat:when=2":                        "needs error=ERRNO or retval=VALUE",
		"openat:error=":                        "error= needs an errno",
		"openat:error=0":                       "from 1 to 4095",
		"openat:error=4096":                    "from 1 to 4095",
		"openat:error=EIO:error=EPERM":         "one error= or retval=",
		"openat:error=EIO:retval=1":            "one error= or retval=",
		"write:retval=":                        "want an integer",
		"write:retval=forty":                   "want an integer",
		"openat:error=EIO:when=0":              "not a number from 1 to 65535",
		"openat:error=EIO:when=65536":          "not a number from 1 to 65535",
		"openat:error=EIO:when=x":              "not a number",
		"openat:error=EIO:when=3..2":           "the last invocation",
		"openat:error=EIO:when=3..":            "the last invocation",
		"openat:error=EIO:when=1..65535":       "the last invocation",
		"openat:error=EIO:when=3+0":            "the step",
		"openat:error=EIO:when=3+x":            "the step",
		"openat:error=EIO:when=":               "not a number",
		"openat:error=EIO:signal=SIGSEGV":      "strace's signal= is not supported",
		"openat:error=EIO:delay_enter=1s":      "strace's delay_enter= is not supported",
		"openat:error=EIO:poke_enter=@arg1=00": "strace's poke_enter= is not supported",
		"openat:error=EIO:syscall=getpid":      "strace's syscall= is not supported",
		"openat:error=EIO:frob=1":              `unknown option "frob=1"`,
		"openat:error=EIO:=1":                  "an option without a name",
		"openat:error=EIO:pid=0":               "pid=0: want a number from 1",
		"openat:error=EIO:count=-1":            "count=-1: want a number from 1",
		"%file:error=EIO":                      "not strace's classes",
		"/^open:error=EIO":                     "not strace's classes",
		"?openat:error=EIO":                    "not strace's classes",
		"openat@64:error=EIO":                  "not strace's classes",
		"openat,all:error=EIO":                 "not strace's classes",
	} {
		_, err := ParseInjection(spec)
		if err == nil {
			t.Errorf("%q parsed", spec)
			continue
		}
		if !errors.Is(err, ErrBadInjection) || !strings.Contains(err.Error(), says) || !strings.Contains(err.Error(), spec) {
			t.Errorf("%q: %v; want ErrBadInjection naming the spec and saying %q", spec, err, says)
		}
	}
}

func TestInjectionCheck(t *testing.T) {
	for _, in := range []Injection{
		{Errno: "EIO"}, // no call
		{Names: []string{""}, Errno: "EIO"},
		{Names: []string{"read"}, Errno: "0"},
		{Names: []string{"read"}, Errno: "EIO", PID: -1},
		{Names: []string{"read"}, Errno: "EIO", When: When{First: 70000}},
		{Names: []string{"read"}, Errno: "EIO", When: When{First: 3, Last: 2, Step: 1}},
		{Names: []string{"read"}, Errno: "EIO", When: When{First: 3, Last: 5}}, // a range needs a step
	} {
		if err := in.Check(); !errors.Is(err, ErrBadInjection) {
			t.Errorf("%+v: Check %v, want ErrBadInjection", in, err)
		}
	}
}
