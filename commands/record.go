package commands

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"nitro/api"
	"nitro/record"
)

// Record writes a guest's system calls, with its process table over time,
// to a recording (package record) until ctx ends, --count or --duration
// says, or the session ends; trace's filters choose the calls.
func Record(ctx context.Context, h api.Hypervisor, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("record", flag.ContinueOnError)
	var sf streamFlags
	sf.register(fs, "record")
	out := fs.String("o", "", "write the recording to this file (default DOMAIN-YYYYMMDD-HHMMSS.nitro)")
	if err := fs.Parse(args); err != nil {
		return ErrUsage
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("record needs one DOMAIN (%w)", ErrUsage)
	}
	if err := sf.check(); err != nil {
		return err
	}
	domain := fs.Arg(0)
	path := *out
	if path == "" {
		path = record.FileName(domain, time.Now())
	}
	return sf.followRecorded(ctx, h, domain, path, nil, stderr)
}

// followRecorded follows domain as follow does, recording the calls kept
// to path and handing them to also too, unless nil: nitro record, and
// trace --record, which prints what it records.
func (sf *streamFlags) followRecorded(ctx context.Context, h api.Hypervisor, domain, path string, also sink, stderr io.Writer) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	rs := &recordSink{f: f, flags: sf, stderr: stderr}
	var out sink = rs
	if also != nil {
		out = teeSink{rs, also}
	}
	err = sf.follow(ctx, h, domain, out)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if rs.r == nil { // never attached: no recording to keep
		os.Remove(path)
	}
	if err == nil {
		fmt.Fprintf(stderr, "nitro: recorded %d calls of %s in %s\n", rs.r.Calls, domain, path)
	}
	return err
}

// recordSink writes the calls kept to a recording (record.Recorder).
type recordSink struct {
	f      *os.File
	flags  *streamFlags
	stderr io.Writer
	r      *record.Recorder
}

func (s *recordSink) attached(ctx context.Context, sess api.Session) error {
	var err error
	s.r, err = record.NewRecorder(ctx, s.f, sess, record.Meta{Syscalls: s.flags.names, Filter: s.flags.filter()}, func(err error) {
		fmt.Fprintf(s.stderr, "nitro: the process table could not be read (recording goes on): %v\n", err)
	})
	return err
}

func (s *recordSink) write(sc *api.Syscall) error { return s.r.Event(sc) }
func (s *recordSink) flush() error                { return s.r.Flush() }
func (s *recordSink) end() error                  { return s.r.Close() }

// teeSink hands every call to each of its sinks, in order.
type teeSink []sink

func (t teeSink) attached(ctx context.Context, sess api.Session) error {
	return t.each(func(s sink) error { return s.attached(ctx, sess) })
}

func (t teeSink) write(sc *api.Syscall) error {
	return t.each(func(s sink) error { return s.write(sc) })
}

func (t teeSink) flush() error { return t.each(sink.flush) }
func (t teeSink) end() error   { return t.each(sink.end) }

// each calls op on every sink even after one fails: at the end, the
// printed lines are flushed even when the recording could not be closed.
func (t teeSink) each(op func(sink) error) error {
	var err error
	for _, s := range t {
		err = errors.Join(err, op(s))
	}
	return err
}
