package traceformat

import (
	"io"
	"strconv"

	"nitro/api"
	"nitro/internal/escape"
)

// Text writes events in strace's form (see the package documentation). It
// holds an entry back until the next event: when that is the call's exit,
// the call shows as one line; otherwise the entry shows as unfinished and
// its exit as resumed, as strace -f does. It is not safe for concurrent use.
type Text struct {
	w    io.Writer
	line []byte

	held       *api.Syscall // the last entry, not written yet
	unfinished map[int]bool // threads whose entry was written unfinished
}

// NewText returns a Text writer on w.
func NewText(w io.Writer) *Text {
	return &Text{w: w, unfinished: make(map[int]bool)}
}

// Write writes sc, or holds it back if it is an entry that may return.
func (t *Text) Write(sc *api.Syscall) error {
	tid := sc.Process.TID
	held := t.held
	if held != nil && (held.Process.TID != tid || sc.Direction == api.Enter) {
		if err := t.Flush(); err != nil {
			return err
		}
		held = nil
	}
	if sc.Direction == api.Enter {
		if sc.NoReturn() {
			return t.write(sc, api.Whole)
		}
		entry := *sc
		t.held = &entry
		return nil
	}
	t.held = nil
	form := api.Whole
	if held == nil && (t.unfinished[tid] || !sc.Matched) {
		form = api.Resumed
	}
	delete(t.unfinished, tid)
	return t.write(sc, form)
}

// Flush writes the entry held back, as unfinished.
func (t *Text) Flush() error {
	if t.held == nil {
		return nil
	}
	sc := t.held
	t.held = nil
	t.unfinished[sc.Process.TID] = true
	return t.write(sc, api.Unfinished)
}

// write writes sc as one line in form f.
func (t *Text) write(sc *api.Syscall, f api.Form) error {
	b := appendProcess(t.line[:0], &sc.Process)
	b = api.AppendCall(b, sc, f)
	b = append(b, '\n')
	t.line = b
	return flush(t.w, b)
}

func appendProcess(b []byte, p *api.Process) []byte {
	b = append(b, '[')
	b = strconv.AppendInt(b, int64(p.PID), 10)
	if p.TID != p.PID {
		b = append(b, '/')
		b = strconv.AppendInt(b, int64(p.TID), 10)
	}
	b = append(b, ' ')
	b = append(b, escape.String(p.Comm)...)
	return append(b, "] "...)
}
