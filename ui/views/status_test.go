package views

import (
	"strings"
	"testing"
	"time"

	"nitro/api"
)

// TestStatusBarPlaybackAndRecording: a replay's bar says where it is, how
// long the recording is and its speed, ahead of the kernel; a recording's
// file shows right after the domain.
func TestStatusBarPlaybackAndRecording(t *testing.T) {
	st := testCommon(t).Styles
	start := time.Unix(1000, 0)
	s := Status{Info: api.Info{Domain: "lab", Kernel: "Linux 6.1", Replay: "/t/lab.nitro"}, Playback: &api.Position{
		Seq: 1234, Time: start.Add(1500 * time.Millisecond), Calls: 400, First: 1, Last: 5000,
		Start: start, End: start.Add(20 * time.Second), Speed: 0.5,
	}}
	want := " lab | REPLAY lab.nitro | seq 1234 @1.5s of 400 calls/20s | x0.5 | Linux 6.1 "
	if bar := StatusBar(st, 120, s); !strings.HasPrefix(bar, want) || strings.Contains(bar, "ev/s") {
		t.Errorf("a replay's bar:\n%q\nwant it to start\n%q", bar, want)
	}
	s.Playback = &api.Position{Calls: 400, Start: start, End: start.Add(time.Minute)}
	if bar := StatusBar(st, 120, s); !strings.Contains(bar, "| start of 400 calls/1m0s | max speed |") {
		t.Errorf("a replay's bar before its first call: %q", bar)
	}
	s = Status{Info: api.Info{Domain: "lab", Listener: "gdbstub"}, Recording: "/t/lab-1\x1b.nitro"}
	if bar := StatusBar(st, 120, s); !strings.HasPrefix(bar, " lab | REC lab-1?.nitro | gdbstub |") {
		t.Errorf("a recording's bar: %q", bar)
	}
}

// TestStatusBarBreakpointKind: a live session's bar names the kind of
// breakpoints that stops the guest after its listener; a session with none
// (a replay, the nitro listener) names none.
func TestStatusBarBreakpointKind(t *testing.T) {
	st := testCommon(t).Styles
	for kind, want := range map[api.BreakpointKind]string{
		api.BreakpointsHardware: " lab | gdbstub hw | Linux 6.1 |",
		api.BreakpointsSoftware: " lab | gdbstub sw | Linux 6.1 |",
		api.BreakpointsMixed:    " lab | gdbstub hw+sw | Linux 6.1 |",
		"":                      " lab | gdbstub | Linux 6.1 |",
	} {
		s := Status{Info: api.Info{Domain: "lab", Listener: "gdbstub", Kernel: "Linux 6.1"}, Stats: api.Stats{Breakpoints: kind}}
		if bar := StatusBar(st, 120, s); !strings.HasPrefix(bar, want) {
			t.Errorf("%q breakpoints: bar\n%q\nwant it to start\n%q", kind, bar, want)
		}
	}
}
