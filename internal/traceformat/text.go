package traceformat

import (
	"io"
	"strconv"

	"nitro/core/backend"
	"nitro/core/kvm"
	"nitro/internal/escape"
)

// Text writes events in strace's form (see the package documentation). It
// holds an entry back until the next event: when that is the call's exit,
// the call shows as one line; otherwise the entry shows as unfinished and
// its exit as resumed, as strace -f does. It is not safe for concurrent use.
type Text struct {
	w      io.Writer
	result ResultFunc
	line   []byte

	held       *backend.Syscall // the last entry, not written yet
	unfinished map[int]bool     // threads whose entry was written unfinished
}

// NewText returns a Text writer on w; result nil means GenericResult.
func NewText(w io.Writer, result ResultFunc) *Text {
	if result == nil {
		result = GenericResult
	}
	return &Text{w: w, result: result, unfinished: make(map[int]bool)}
}

// Write writes sc, or holds it back if it is an entry that may return.
func (t *Text) Write(sc *backend.Syscall) error {
	tid := sc.Process.TID
	held := t.held
	if held != nil && (held.Process.TID != tid || sc.Direction == kvm.Enter) {
		if err := t.Flush(); err != nil {
			return err
		}
		held = nil
	}
	if sc.Direction == kvm.Enter {
		if t.result(sc) == "" {
			entry := *sc
			t.held = &entry
			return nil
		}
		return t.write(sc, false)
	}
	t.held = nil
	resumed := held == nil && (t.unfinished[tid] || !sc.Matched)
	delete(t.unfinished, tid)
	return t.write(sc, resumed)
}

// Flush writes the entry held back, as unfinished.
func (t *Text) Flush() error {
	if t.held == nil {
		return nil
	}
	sc := t.held
	t.held = nil
	t.unfinished[sc.Process.TID] = true
	return t.write(sc, false)
}

// write writes sc as one line; resumed shows an exit whose entry was
// written before, or never seen.
func (t *Text) write(sc *backend.Syscall, resumed bool) error {
	b := appendProcess(t.line[:0], &sc.Process)
	if sc.ABI != backend.X8664 {
		// The numbers and the meaning of the arguments differ: say so.
		b = append(b, sc.ABI.String()...)
		b = append(b, ':')
	}
	res := t.result(sc)
	name := safe(sc.Name)
	if sc.Direction == kvm.Exit && resumed {
		b = append(b, "<... "...)
		b = append(b, name...)
		b = append(b, " resumed>)"...)
	} else {
		b = append(b, name...)
		b = append(b, '(')
		for i, a := range sc.Args {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = append(b, safe(a.Text)...)
		}
		if sc.Direction == kvm.Enter && res == "" {
			if len(sc.Args) > 0 {
				b = append(b, ' ')
			}
			b = append(b, "<unfinished ...>"...)
		} else {
			b = append(b, ')')
		}
	}
	if res != "" {
		b = append(b, " = "...)
		b = append(b, safe(res)...)
	}
	b = append(b, '\n')
	t.line = b
	return flush(t.w, b)
}

func appendProcess(b []byte, p *backend.Process) []byte {
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

// safe returns text that should be terminal-safe already (decoded argument
// texts are escaped by the back end) unchanged, and escapes it if a back end
// broke that promise: a bad decoder must not reach the terminal either.
func safe(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return escape.String(s)
		}
	}
	return s
}
