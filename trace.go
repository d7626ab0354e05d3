package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"nitro/core"
	"nitro/core/backend"
	"nitro/core/backend/linux/strace"
	"nitro/internal/traceformat"
)

// traceFilter picks the calls `nitro trace` prints.
type traceFilter struct {
	pid  int
	comm string
}

func (f traceFilter) match(sc *backend.Syscall) bool {
	return (f.pid == 0 || sc.Process.PID == f.pid || sc.Process.TID == f.pid) &&
		(f.comm == "" || sc.Process.Comm == f.comm)
}

func traceCommand(uri string, k core.Kernel, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("trace", flag.ContinueOnError)
	syscalls := fs.String("syscalls", "", "trace only these system calls, comma-separated (the guest runs others at full speed)")
	pid := fs.Int("pid", 0, "print only calls of this process or thread id")
	comm := fs.String("comm", "", "print only calls of processes with this name")
	count := fs.Int("count", 0, "stop after printing this many events")
	duration := fs.Duration("duration", 0, "stop after this long")
	format := fs.String("format", "json", "output: json (one object per line) or text (strace style)")
	out := fs.String("o", "", "write to this file instead of standard output")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("trace needs one DOMAIN (%w)", errUsage)
	}
	var names []string
	if *syscalls != "" {
		var err error
		if names, err = strace.ParseList(*syscalls); err != nil {
			return err
		}
	}
	dst := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		dst = f
	}
	// A batch's lines reach dst in one write: a killed trace leaves only
	// whole lines (a buffered writer would flush at any byte).
	w := &batchWriter{dst: dst}
	tw, err := traceformat.New(*format, w, strace.Result)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	sess, err := core.Attach(ctx, uri, fs.Arg(0), core.Options{Syscalls: names, Kernel: k})
	if err != nil {
		return err
	}
	defer sess.Close()
	sub := sess.Subscribe(1<<16, false)
	runCtx, endRun := context.WithCancel(ctx)
	defer endRun()
	done := make(chan error, 1)
	go func() { done <- sess.Run(runCtx) }()
	go reportPauses(runCtx, sess, fs.Arg(0))

	filter := traceFilter{pid: *pid, comm: *comm}
	printed := 0
	var werr error
	for batch := range sub.C {
		if werr != nil || *count > 0 && printed >= *count {
			continue // drain until the session ends
		}
		for i := range batch {
			sc := &batch[i]
			if !filter.match(sc) {
				continue
			}
			if werr = tw.Write(sc); werr != nil {
				break
			}
			if printed++; *count > 0 && printed >= *count {
				endRun()
				break
			}
		}
		if err := w.Flush(); err != nil && werr == nil {
			werr = err
		}
		if werr != nil {
			endRun()
		}
	}
	runErr := <-done
	if werr == nil {
		werr = tw.Flush()
	}
	if werr == nil {
		werr = w.Flush()
	}
	return errors.Join(runErr, werr, sess.Close())
}

// reportPauses says on stderr when the guest is paused from outside (virsh
// suspend) and when it runs again, so that a quiet trace does not look hung,
// and when it was resumed from outside while nitro held it.
func reportPauses(ctx context.Context, sess *core.Session, name string) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	paused := false
	var resumed uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if p := sess.Paused(); p != paused {
			paused = p
			if p {
				fmt.Fprintf(os.Stderr, "nitro: %s is paused; tracing goes on when it is resumed\n", name)
			} else {
				fmt.Fprintf(os.Stderr, "nitro: %s runs again\n", name)
			}
		}
		if r := sess.Stats().ResumedOutside; r != resumed {
			resumed = r
			fmt.Fprintf(os.Stderr, "nitro: %s was resumed outside nitro while a call was held; the call ran unchanged\n", name)
		}
	}
}

// batchWriter gathers lines and writes them out together.
type batchWriter struct {
	dst io.Writer
	buf bytes.Buffer
}

func (b *batchWriter) Write(p []byte) (int, error) { return b.buf.Write(p) }

// Flush writes what was gathered in one call.
func (b *batchWriter) Flush() error {
	defer b.buf.Reset()
	if b.buf.Len() == 0 {
		return nil
	}
	_, err := b.dst.Write(b.buf.Bytes())
	return err
}
