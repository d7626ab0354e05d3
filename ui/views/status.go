package views

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"nitro/api"
	"nitro/internal/escape"
	"nitro/ui/common"
)

// Status is what the status bar shows.
type Status struct {
	Info  api.Info
	Stats api.Stats
	Rate  float64 // events per second over the last refresh
	Held  bool
	// HeldBy is who holds the held call in a shared session; "" otherwise.
	HeldBy string
	Breaks []api.Breakpoint
	// Playback is a replay's position; nil for a live guest.
	Playback *api.Position
	// Recording is the file the session is being recorded to; "" for none.
	Recording string
	// Findings counts the triage findings so far, Severe those at or above
	// warning.
	Findings, Severe int
}

// StatusBar renders the attached screen's status line: domain, listener
// and the kind of its breakpoints, guest kernel, events/s, totals, drops,
// and whether the VM runs.
func StatusBar(st *common.Styles, width int, s Status) string {
	state, stateStyle := " running ", st.BarOK
	switch {
	case s.Held:
		state, stateStyle = " HELD ", st.BarWarn
	case s.Stats.Paused:
		state, stateStyle = " paused ", st.BarWarn
	}
	source := Plain(s.Info.Listener)
	if k := bpKinds[s.Stats.Breakpoints]; k != "" { // whether the guest could see them
		source += " " + k
	}
	if s.Info.Replay != "" { // history, not a live guest: say so
		source = "REPLAY " + escape.String(filepath.Base(s.Info.Replay))
	}
	counts := fmt.Sprintf(" | %.0f ev/s | total %d | dropped %d", s.Rate, s.Stats.Events, s.Stats.Dropped)
	if s.Playback != nil { // where it is matters more than the kernel, which a narrow bar cuts
		source += " | " + playback(s.Playback)
		counts = ""
	}
	if s.Recording != "" {
		source = "REC " + Plain(filepath.Base(s.Recording)) + " | " + source
	}
	left := fmt.Sprintf(" %s | %s | %s%s", Plain(s.Info.Domain), source, escape.String(s.Info.Kernel), counts)
	if s.Held && s.HeldBy != "" {
		left += " | held by " + Plain(s.HeldBy)
	}
	if s.Findings > 0 {
		left += fmt.Sprintf(" | findings %d (%d severe)", s.Findings, s.Severe)
	}
	if len(s.Breaks) > 0 {
		left += " | break " + breaks(s.Breaks)
	}
	if len(s.Stats.Injections) > 0 {
		left += " | inject " + injections(s.Stats.Injections)
	}
	room := width - len(state)
	if room < 0 {
		return stateStyle.Render(cut(state, width))
	}
	return st.Bar.Render(fit(left, room)) + stateStyle.Render(state)
}

// bpKinds are the breakpoint kinds as the narrow status bar names them,
// as gdb does (hwbreak, swbreak).
var bpKinds = map[api.BreakpointKind]string{
	api.BreakpointsHardware: "hw",
	api.BreakpointsSoftware: "sw",
	api.BreakpointsMixed:    "hw+sw",
}

// injections are the armed injections as --inject takes them, each with
// how many calls it injected so far ("x3").
func injections(ins []api.ArmedInjection) string {
	parts := make([]string, len(ins))
	for i, in := range ins {
		parts[i] = escape.String(in.String())
		if in.Injected > 0 {
			parts[i] += fmt.Sprintf(" x%d", in.Injected)
		}
	}
	return strings.Join(parts, ", ")
}

func breaks(bs []api.Breakpoint) string {
	parts := make([]string, len(bs))
	for i, b := range bs {
		parts[i] = escape.String(b.Name)
		if b.PID != 0 {
			parts[i] += fmt.Sprintf("[%d]", b.PID)
		}
		if b.Exit {
			parts[i] += "@exit"
		}
	}
	return strings.Join(parts, ",")
}

// playback is a replay's position, its length and its speed:
// "seq 120 @1.5s of 400 calls/20s | x2".
func playback(p *api.Position) string {
	at := "start"
	if p.Seq != 0 {
		at = fmt.Sprintf("seq %d @%s", p.Seq, p.Time.Sub(p.Start).Round(time.Millisecond))
	}
	return fmt.Sprintf("%s of %d calls/%s | %s", at, p.Calls, p.End.Sub(p.Start).Round(time.Millisecond), Speed(p.Speed))
}

// Speed names a playback speed: "x2", "x0.5", "max speed" (0).
func Speed(v float64) string {
	if v == 0 {
		return "max speed"
	}
	return "x" + strconv.FormatFloat(v, 'g', -1, 64)
}
