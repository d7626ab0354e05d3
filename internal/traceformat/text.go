package traceformat

import (
	"io"
	"strconv"

	"nitro/core/backend"
	"nitro/core/kvm"
	"nitro/internal/escape"
)

// Text writes events in strace's form (see the package documentation). It
// is not safe for concurrent use.
type Text struct {
	w      io.Writer
	result ResultFunc
	line   []byte
}

// NewText returns a Text writer on w; result nil means GenericResult.
func NewText(w io.Writer, result ResultFunc) *Text {
	if result == nil {
		result = GenericResult
	}
	return &Text{w: w, result: result}
}

// Write writes sc as one line.
func (t *Text) Write(sc *backend.Syscall) error {
	b := appendProcess(t.line[:0], &sc.Process)
	res := t.result(sc)
	name := safe(sc.Name)
	if sc.Direction == kvm.Exit && !sc.Matched {
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
