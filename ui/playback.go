package ui

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"nitro/api"
	"nitro/ui/calls"
	"nitro/ui/views"
)

// A replay's playback keys: the session is an api.Playback. A move
// (a step back, a jump, the next match) makes the session hand the calls
// up to the new position again, on a new channel of the subscription: the
// pane starts afresh from that channel, and the process tree from a new
// snapshot, as of the position.

// movedMsg is the end of a move of the playback.
type movedMsg struct {
	sess api.Session
	note string
	err  error
}

// seekPurpose tells the jump prompt's PromptMsg apart.
type seekPurpose struct{}

// seekLabel is the jump prompt's label: what it takes.
const seekLabel = "jump to (seq, time hh:mm:ss.mmm, or +offset like +1.5s): "

// speeds are the playback speeds the faster and slower keys go through;
// 0, as fast as possible, is past the fastest.
var speeds = []float64{0.125, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 0}

func (a *attached) isPlaybackKey(k tea.KeyMsg) bool {
	keys := a.c.Keys
	return key.Matches(k, keys.StepForward, keys.StepBack, keys.Faster, keys.Slower, keys.Seek, keys.NextMatch)
}

func (a *attached) playbackKey(m *Model, k tea.KeyMsg) tea.Cmd {
	keys, pb := a.c.Keys, a.pb
	switch {
	case key.Matches(k, keys.StepForward):
		a.syscalls.SetFollow(true) // the call played is the last row: select it
		return a.run("", func(ctx context.Context, _ api.Session) error { return pb.Step(ctx, 1) },
			func(a *attached) { a.insp.SetHeld(nil); a.stats.Paused = true })
	case key.Matches(k, keys.StepBack):
		return a.move("", func(ctx context.Context) error { return pb.Step(ctx, -1) })
	case key.Matches(k, keys.Faster):
		return a.setSpeed(1)
	case key.Matches(k, keys.Slower):
		return a.setSpeed(-1)
	case key.Matches(k, keys.Seek):
		m.prompt.Open(seekLabel, "", seekPurpose{})
	case key.Matches(k, keys.NextMatch):
		f := a.store.Filter()
		if f.Empty() {
			note := "no filter to match"
			if k := views.KeyName(keys.Filter); k != "" {
				note += " (" + k + " sets one)"
			}
			m.setNote(note, true)
			return nil
		}
		return a.move("the next call that matches", func(ctx context.Context) error {
			return pb.SeekMatch(ctx, func(sc *api.Syscall) bool {
				r := calls.Row{Call: *sc, Done: sc.IsExit()}
				if !f.Match(&r) || !sc.IsExit() {
					return f.Match(&r)
				}
				// An exit matches by its outcome only: else its entry
				// matched, and that row was the match.
				r.Call.Errno = ""
				return !f.Match(&r)
			})
		})
	}
	return nil
}

// move runs a move of the playback; note says where it went.
func (a *attached) move(note string, op func(context.Context) error) tea.Cmd {
	ctx, s := a.ctx, a.sess
	return func() tea.Msg {
		err := op(ctx)
		if errors.Is(err, api.ErrNoMatch) {
			err = errors.New("no call after this one matches the filter")
		}
		return movedMsg{sess: s, note: note, err: err}
	}
}

// moved starts the pane afresh from the subscription's new channel, and
// takes the process table as of the new position.
func (a *attached) moved(m *Model, msg movedMsg) tea.Cmd {
	if msg.sess != a.sess {
		return nil
	}
	if msg.err != nil {
		m.setNote(msg.err.Error(), true)
		return nil
	}
	a.insp.SetHeld(nil) // a move lets a held call go
	a.stats.Paused = true
	a.syncPosition()
	if msg.note != "" {
		m.setNote(msg.note, false)
	}
	ch := a.sub.C()
	if ch == a.batches { // an earlier move's message started it already
		return nil
	}
	a.stopWait()
	a.waitCtx, a.stopWait = context.WithCancel(a.ctx)
	a.batches = ch
	a.store.Reset()
	// The triage judges the calls the screen holds, from the move on.
	a.tri.reset()
	a.syscalls.SetFollow(true) // the position is the last row
	return tea.Batch(a.waitBatch(), a.snapshotCmd(time.Time{}))
}

// syncPosition takes a replay's position; Position does no I/O.
func (a *attached) syncPosition() {
	if a.pb != nil {
		a.pos = a.pb.Position()
	}
}

// setSpeed goes one step faster (dir 1) or slower (-1) along speeds.
func (a *attached) setSpeed(dir int) tea.Cmd {
	rank := func(v float64) float64 { // as fast as possible is the fastest
		if v == 0 {
			return math.Inf(1)
		}
		return v
	}
	cur, next := rank(a.pos.Speed), a.pos.Speed
	for i := range speeds {
		v := speeds[i]
		if dir < 0 {
			v = speeds[len(speeds)-1-i]
		}
		if r := rank(v); dir > 0 && r > cur || dir < 0 && r < cur {
			next = v
			break
		}
	}
	pb := a.pb
	return a.run("speed "+views.Speed(next), func(context.Context, api.Session) error { return pb.SetSpeed(next) },
		func(a *attached) { a.pos.Speed = next })
}

// seekTo jumps to what the jump prompt's input names: a seq, a time of
// day as the pane shows it, or an offset from the recording's start.
func (a *attached) seekTo(m *Model, input string) tea.Cmd {
	in, pb := strings.TrimSpace(input), a.pb
	if seq, err := strconv.ParseUint(in, 10, 64); err == nil {
		return a.move(fmt.Sprintf("jumped to seq %d", seq), func(ctx context.Context) error { return pb.Seek(ctx, seq) })
	}
	t, err := recordedTime(in, a.pos.Start, a.pos.End)
	if err != nil {
		m.setNote(err.Error(), true)
		return nil
	}
	return a.move("jumped to "+views.Plain(in), func(ctx context.Context) error { return pb.SeekTime(ctx, t) })
}

// recordedTime reads "+1.5s" as that long after start, and "12:00:05.25"
// as that time of the day the recording started (of the next day, for a
// recording that runs past midnight and had not reached it that day).
func recordedTime(in string, start, end time.Time) (time.Time, error) {
	if off, ok := strings.CutPrefix(in, "+"); ok {
		d, err := time.ParseDuration(off)
		if err != nil {
			return time.Time{}, fmt.Errorf("bad offset %q: want e.g. +1.5s or +2m", views.Plain(off))
		}
		return start.Add(d), nil
	}
	clock, err := time.Parse("15:04:05", in) // a fraction of a second may follow
	if err != nil {
		return time.Time{}, fmt.Errorf("bad jump %q: want a seq, a time hh:mm:ss.mmm or an offset +1.5s", views.Plain(in))
	}
	day := start.In(time.Local)
	t := time.Date(day.Year(), day.Month(), day.Day(), clock.Hour(), clock.Minute(), clock.Second(), clock.Nanosecond(), time.Local)
	if next := t.AddDate(0, 0, 1); t.Before(day) && !next.After(end) {
		t = next
	}
	return t, nil
}

// ownKeys is a pane's key help with the attached screen's keys of its
// own: a replay's playback, or recording a live guest.
type ownKeys struct {
	help.KeyMap
	short, full []key.Binding
}

func (h ownKeys) ShortHelp() []key.Binding {
	return append(append([]key.Binding(nil), h.short...), h.KeyMap.ShortHelp()...)
}

func (h ownKeys) FullHelp() [][]key.Binding { return append(h.KeyMap.FullHelp(), h.full) }

func (a *attached) withOwnKeys(pane help.KeyMap) help.KeyMap {
	k := a.c.Keys
	if a.pb == nil {
		return ownKeys{KeyMap: pane, full: []key.Binding{k.Record}}
	}
	return ownKeys{
		KeyMap: pane,
		short:  []key.Binding{k.StepForward, k.StepBack, k.Seek},
		full:   []key.Binding{k.Pause, k.StepForward, k.StepBack, k.Faster, k.Slower, k.Seek, k.NextMatch},
	}
}
