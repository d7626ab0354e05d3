package traceformat

import (
	"io"
	"strconv"

	"nitro/api"
	"nitro/internal/escape"
)

// timeLayout is RFC 3339 with nanoseconds, always nine digits so lines sort
// as text.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// JSON writes events as JSON lines (see the package documentation). It is
// not safe for concurrent use.
type JSON struct {
	w    io.Writer
	line []byte
}

// NewJSON returns a JSON lines writer on w.
func NewJSON(w io.Writer) *JSON { return &JSON{w: w} }

// Flush does nothing: JSON lines are written at once.
func (j *JSON) Flush() error { return nil }

// Write writes sc as one line.
func (j *JSON) Write(sc *api.Syscall) error {
	b := append(j.line[:0], `{"seq":`...)
	b = strconv.AppendUint(b, sc.Seq, 10)
	b = append(b, `,"time":"`...)
	b = sc.Time.AppendFormat(b, timeLayout)
	b = append(b, `","vcpu":`...)
	b = strconv.AppendInt(b, int64(sc.VCPU), 10)
	b = append(b, `,"direction":`...)
	b = appendString(b, sc.Direction.String())
	b = append(b, `,"abi":`...)
	b = appendString(b, sc.ABI.String())
	b = append(b, `,"nr":`...)
	b = strconv.AppendUint(b, sc.Nr, 10)
	b = append(b, `,"name":`...)
	b = appendString(b, sc.Name)
	b = append(b, `,"pid":`...)
	b = strconv.AppendInt(b, int64(sc.Process.PID), 10)
	b = append(b, `,"tid":`...)
	b = strconv.AppendInt(b, int64(sc.Process.TID), 10)
	b = append(b, `,"ppid":`...)
	b = strconv.AppendInt(b, int64(sc.Process.PPID), 10)
	b = append(b, `,"comm":`...)
	b = appendString(b, escape.String(sc.Process.Comm))
	b = append(b, `,"args":[`...)
	for i, a := range sc.Args {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"raw":"0x`...)
		b = strconv.AppendUint(b, a.Raw, 16)
		b = append(b, `","text":`...)
		b = appendString(b, a.Text)
		b = append(b, '}')
	}
	b = append(b, ']')
	if sc.Direction == api.Exit {
		b = append(b, `,"ret":`...)
		b = strconv.AppendInt(b, sc.Ret, 10)
		b = append(b, `,"errno":`...)
		b = appendString(b, sc.Errno)
		b = append(b, `,"matched":`...)
		b = strconv.AppendBool(b, sc.Matched)
		b = append(b, `,"ret_text":`...)
		b = appendString(b, sc.RetText)
		if sc.Injected {
			b = append(b, `,"injected":true`...)
		}
	}
	b = append(b, "}\n"...)
	j.line = b
	return flush(j.w, b)
}

const hex = "0123456789abcdef"

// appendString writes s as a JSON string. Texts are escaped already, so
// this only guards JSON's own syntax; any byte outside printable ASCII is
// written as \u00XX so the line stays valid UTF-8 and terminal-safe.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c > 0x7e:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
