package triage

import (
	"errors"
	"strings"
	"testing"

	"nitro/api"
)

// FuzzLoad: any rule file loads or is refused with a LoadError naming a
// line of the file, in one line of text; none panics.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(`[{"rule": "a", "severity": "error", "why": "w", "condition": "spawned_process and proc.name in shell_binaries"}]`))
	f.Add([]byte("[\n{\"macro\": \"m\", \"condition\": \"evt.type == 'x'\"},\n{\"list\": \"l\", \"items\": [\"a\"]}]"))
	f.Add([]byte(`[{"rule": "r", "severity": "info", "why": "w", "condition": "any(evt.rawarg, # == 0)", "threshold": {"count": 3, "within": "1s"}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Load(Builtin(), "f.json", data)
		if err == nil {
			return
		}
		var le *LoadError
		if !errors.As(err, &le) {
			t.Fatalf("error %v is no LoadError", err)
		}
		if le.Line < 1 || le.Line > 1+strings.Count(string(data), "\n") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("error %q: line %d of a file of %d", err, le.Line, 1+strings.Count(string(data), "\n"))
		}
	})
}

// FuzzFeed: the engine takes any argument texts a hostile guest's calls
// can show (paths, addresses, argv) without panicking, and every finding
// it makes has evidence in terminal-safe text.
func FuzzFeed(f *testing.F) {
	f.Add("execve", `"/tmp/x"`, `{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("8.8.8.8")}`, int64(0), uint64(3))
	f.Add("connect", `3`, `{sa_family=AF_INET6, sin6_port=htons(1`, int64(-101), uint64(0x1000))
	f.Add("openat", `AT_FDCWD`, `"/etc/passwd\x00\"...`, int64(3), uint64(0x241))
	f.Fuzz(func(t *testing.T, name, a0, a1 string, ret int64, raw uint64) {
		e := New(Builtin())
		e.KeepActivity()
		p := api.Process{PID: 7, TID: 7, PPID: 1, Comm: "f\x1b"}
		args := []api.Arg{{Raw: raw, Text: a0}, {Raw: raw, Text: a1}, {Raw: raw, Text: a1}, {Raw: raw, Text: a0}, {Raw: raw, Text: a1}}
		for i := range 3 {
			enter := api.Syscall{Seq: uint64(2*i + 1), Name: name, Process: p, Args: args}
			exit := enter
			exit.Seq, exit.Direction, exit.Ret, exit.Matched = enter.Seq+1, api.Exit, ret, true
			e.Feed(&enter)
			e.Feed(&exit)
		}
		for _, fd := range e.Findings() {
			for _, ev := range fd.Evidence {
				if api.Safe(ev.Text) != ev.Text || api.Safe(fd.Comm) != fd.Comm || api.Safe(fd.Exe) != fd.Exe {
					t.Fatalf("finding not terminal-safe: %+v", fd)
				}
			}
		}
		e.Files()
		e.Network()
		e.Execs()
	})
}
