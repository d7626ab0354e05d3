package traceformat

import (
	"errors"
	"fmt"
	"io"

	"nitro/api"
)

// Writer writes system call events, one line each (the text form may hold
// an entry back until it sees whether its exit follows).
type Writer interface {
	Write(sc *api.Syscall) error
	// Flush writes anything held back.
	Flush() error
}

// ErrUnknownFormat is returned by New for a format it does not know.
var ErrUnknownFormat = errors.New("unknown trace format")

// Formats are the names New takes.
var Formats = []string{"text", "json"}

// New returns the writer of the named format ("text" or "json") on w.
func New(format string, w io.Writer) (Writer, error) {
	switch format {
	case "text":
		return NewText(w), nil
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
