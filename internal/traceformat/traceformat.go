package traceformat

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"nitro/core/backend"
	"nitro/core/kvm"
)

// Writer writes events, each as one line.
type Writer interface {
	Write(sc *backend.Syscall) error
	// Flush writes what the writer holds back (the text form's last entry,
	// waiting for its exit).
	Flush() error
}

// ResultFunc returns the text shown after " = " for an event: for an exit
// its return value, for an entry "" (the call is unfinished) or "?" for a
// call that never returns.
type ResultFunc func(sc *backend.Syscall) string

// ErrUnknownFormat is returned by New for a format it does not know.
var ErrUnknownFormat = errors.New("unknown trace format")

// Formats are the names New takes.
var Formats = []string{"text", "json"}

// New returns the writer of the named format ("text" or "json") on w.
// result is used by the text form; nil means a generic one (the decimal
// value, "-1 ERRNO" for a failure).
func New(format string, w io.Writer, result ResultFunc) (Writer, error) {
	switch format {
	case "text":
		return NewText(w, result), nil
	case "json":
		return NewJSON(w), nil
	}
	return nil, fmt.Errorf("%w %q (want text or json)", ErrUnknownFormat, format)
}

// flush writes one finished line.
func flush(w io.Writer, line []byte) error {
	if _, err := w.Write(line); err != nil {
		return fmt.Errorf("writing trace line: %w", err)
	}
	return nil
}

// GenericResult is the ResultFunc that knows no OS: the decimal return
// value, or "-1 ERRNO" when the call failed.
func GenericResult(sc *backend.Syscall) string {
	if sc.Direction != kvm.Exit {
		return ""
	}
	if sc.Errno != "" {
		return "-1 " + sc.Errno
	}
	return strconv.FormatInt(sc.Ret, 10)
}
