package triage

import (
	"context"
	"testing"

	"nitro/api"
	"nitro/replay"
)

// lab is the recording of the plain lab guest that ships with nitro: cat,
// ls, the probes, ps, and a shell run under the guest's own strace.
const lab = "../examples/lab.nitro"

// recorded plays a recording to its end: its processes at the start, and
// its calls.
func recorded(tb testing.TB, path string) ([]api.Process, []api.Syscall) {
	tb.Helper()
	h, err := replay.Open(path, replay.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	s, err := h.Attach(ctx, h.Domain(), api.AttachOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	sub := s.Subscribe(1<<16, api.Lossless)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var calls []api.Syscall
	var ps []api.Process
	for b := range sub.C() {
		if calls == nil { // a replay has its processes once it plays
			if ps, err = s.Processes(ctx); err != nil {
				tb.Fatal(err)
			}
		}
		calls = append(calls, b...)
	}
	if err := <-done; err != nil {
		tb.Fatal(err)
	}
	return ps, calls
}

// TestLabHasNoFindings: the plain lab guest does nothing suspicious, so
// the built-in rules find nothing in it, though it starts a shell (under
// strace), ptraces (strace), and writes files in /tmp.
func TestLabHasNoFindings(t *testing.T) {
	ps, calls := recorded(t, lab)
	if len(calls) < 2000 || len(ps) == 0 {
		t.Fatalf("%d calls, %d processes: not the lab recording", len(calls), len(ps))
	}
	if got := fired(t, Builtin(), calls, ps...); len(got) != 0 {
		t.Errorf("findings on the plain lab guest: %v", got)
	}
	// The rules did look: the same recording with strace not taken for a
	// debugger and a launcher of shells fires on what it does.
	strict, err := Load(nil, "strict.json", []byte(`[
  {"rule": "shell", "severity": "warning", "why": "x", "condition": "evt.type == 'execve' and proc.name == 'sh' and proc.pname == 'strace'"},
  {"rule": "ptrace", "severity": "warning", "why": "x", "condition": "evt.type == 'ptrace' and evt.rawarg[0] == 16902"},
  {"rule": "marker", "severity": "warning", "why": "x", "condition": "evt.type == 'write' and fd.name == '/tmp/nitro-lab-marker' and proc.pid == 1"}
]`))
	if err != nil {
		t.Fatal(err)
	}
	if got := fired(t, strict, calls, ps...); len(got) != 3 {
		t.Errorf("strict rules fired %v, want shell, ptrace and marker", got)
	}
}
