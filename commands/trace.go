package commands

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"nitro/api"
	"nitro/internal/traceformat"
)

// traceFilter picks the calls `nitro trace` prints.
type traceFilter struct {
	pid  int
	comm string
}

func (f traceFilter) match(sc *api.Syscall) bool {
	return (f.pid == 0 || sc.Process.PID == f.pid || sc.Process.TID == f.pid) &&
		(f.comm == "" || sc.Process.Comm == f.comm)
}

// Trace prints a guest's system calls as JSON lines or strace text until
// ctx ends, --count or --duration says, or the session ends.
func Trace(ctx context.Context, h api.Hypervisor, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("trace", flag.ContinueOnError)
	syscalls := fs.String("syscalls", "", "trace only these system calls, comma-separated (the guest runs others at full speed)")
	pid := fs.Int("pid", 0, "print only calls of this process or thread id")
	comm := fs.String("comm", "", "print only calls of processes with this name")
	count := fs.Int("count", 0, "stop after printing this many events")
	duration := fs.Duration("duration", 0, "stop after this long")
	format := fs.String("format", "json", "output: json (one object per line) or text (strace style)")
	out := fs.String("o", "", "write to this file instead of standard output")
	var injects injectFlag
	fs.Var(&injects, "inject", "make calls fail without running, as strace's -e inject=: SET:error=ERRNO or SET:retval=N, "+
		"with :when=EXPR (N, N+, N+STEP, N..M), nitro's :pid=PID and :count=N; repeatable")
	if err := fs.Parse(args); err != nil {
		return ErrUsage
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("trace needs one DOMAIN (%w)", ErrUsage)
	}
	names, err := syscallList(*syscalls)
	if err != nil {
		return err
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
	tw, err := traceformat.New(*format, w)
	if err != nil {
		return err
	}

	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	sess, err := h.Attach(ctx, fs.Arg(0), api.AttachOptions{Syscalls: names})
	if err != nil {
		return err
	}
	defer sess.Close()
	for _, in := range injects {
		if err := sess.Inject(ctx, in); err != nil {
			return fmt.Errorf("--inject: %w", err)
		}
	}
	sub := sess.Subscribe(1<<16, false)
	runCtx, endRun := context.WithCancel(ctx)
	defer endRun()
	done := make(chan error, 1)
	go func() { done <- sess.Run(runCtx) }()
	go reportPauses(runCtx, sess, fs.Arg(0))

	filter := traceFilter{pid: *pid, comm: *comm}
	printed := 0
	var werr error
	for batch := range sub.C() {
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

// syscallList splits --syscalls' comma-separated names; the session
// checks them against the guest's calls.
func syscallList(list string) ([]string, error) {
	if list == "" {
		return nil, nil
	}
	var names []string
	for name := range strings.SplitSeq(list, ",") {
		if name = strings.TrimSpace(name); name != "" {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("--syscalls %q names no system call", list)
	}
	return names, nil
}

// injectFlag gathers --inject's injections, parsed as they come so a bad
// one is refused before attaching.
type injectFlag []api.Injection

func (f *injectFlag) String() string {
	specs := make([]string, len(*f))
	for i, in := range *f {
		specs[i] = in.String()
	}
	return strings.Join(specs, " ")
}

func (f *injectFlag) Set(spec string) error {
	in, err := api.ParseInjection(spec)
	if err != nil {
		return err
	}
	*f = append(*f, in)
	return nil
}

// reportPauses says on stderr when the guest is paused from outside (virsh
// suspend) and when it runs again, so that a quiet trace does not look hung,
// and when it was resumed from outside while nitro held it.
func reportPauses(ctx context.Context, sess api.Session, name string) {
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
		st := sess.Stats()
		if p := st.Paused; p != paused {
			paused = p
			if p {
				fmt.Fprintf(os.Stderr, "nitro: %s is paused; tracing goes on when it is resumed\n", name)
			} else {
				fmt.Fprintf(os.Stderr, "nitro: %s runs again\n", name)
			}
		}
		if r := st.ResumedOutside; r != resumed {
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
