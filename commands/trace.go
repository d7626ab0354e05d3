package commands

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"nitro/api"
	"nitro/internal/escape"
	"nitro/internal/traceformat"
	"nitro/replay"
)

// Trace prints a guest's system calls as JSON lines or strace text, or
// with --summary strace -c's table of them, until ctx ends, --count or
// --duration says, or the session ends. With --from it reads a recording
// instead of a guest; with --record it records what it prints.
func Trace(ctx context.Context, h api.Hypervisor, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("trace", flag.ContinueOnError)
	var sf streamFlags
	sf.register(fs, "print")
	format := fs.String("format", "json", "output: json (one object per line) or text (strace style)")
	out := fs.String("o", "", "write to this file instead of standard output")
	summary := fs.Bool("summary", false, "print strace -c's table instead of the calls: calls, errors, time per call")
	from := fs.String("from", "", "read the calls from this recording (nitro record) instead of a guest; DOMAIN may be left out")
	rec := fs.String("record", "", "also record the calls printed to this file, as nitro record does")
	if err := fs.Parse(args); err != nil {
		return ErrUsage
	}
	if err := sf.check(); err != nil {
		return err
	}
	if *rec != "" && *from != "" { // the file written could be the one read
		return fmt.Errorf("trace --record records a guest, not --from (%w)", ErrUsage)
	}
	h, domain, err := source(h, *from, fs.Args(), "trace")
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
	var calls sink
	if *summary {
		calls = newSummary(dst)
	} else {
		// A batch's lines reach dst in one write: a killed trace leaves
		// only whole lines (a buffered writer would flush at any byte).
		w := &batchWriter{ctx: ctx, dst: dst}
		tw, err := traceformat.New(*format, w)
		if err != nil {
			return err
		}
		calls = &lineSink{tw: tw, w: w}
	}
	if *rec != "" {
		return sf.followRecorded(ctx, h, domain, *rec, calls, os.Stderr)
	}
	return sf.follow(ctx, h, domain, calls)
}

// source is where a command's calls come from: the domain named in args
// on h, or, with a recording (--from), the recording's domain on a
// hypervisor that plays it as fast as it is read.
func source(h api.Hypervisor, from string, args []string, cmd string) (api.Hypervisor, string, error) {
	if from == "" {
		if len(args) != 1 {
			return nil, "", fmt.Errorf("%s needs one DOMAIN (%w)", cmd, ErrUsage)
		}
		return h, args[0], nil
	}
	if len(args) > 1 {
		return nil, "", fmt.Errorf("%s --from takes at most the recorded DOMAIN (%w)", cmd, ErrUsage)
	}
	r, err := replay.Open(from, replay.Options{})
	if err != nil {
		return nil, "", err
	}
	if r.Damage != nil {
		fmt.Fprintf(os.Stderr, "nitro: %s: %v\n", from, r.Damage)
	}
	if len(args) == 1 {
		return r, args[0], nil
	}
	return r, r.Domain(), nil
}

// lineSink writes calls as trace's lines.
type lineSink struct {
	tw traceformat.Writer
	w  *batchWriter
}

func (l *lineSink) attached(context.Context, api.Session) error { return nil }
func (l *lineSink) write(sc *api.Syscall) error                 { return l.tw.Write(sc) }
func (l *lineSink) flush() error                                { return l.w.Flush() }

func (l *lineSink) end() error {
	if err := l.tw.Flush(); err != nil {
		return err
	}
	return l.w.Flush()
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

// reportState says on stderr when the guest is paused from outside (virsh
// suspend) and when it runs again, so that a quiet trace does not look hung,
// when it was resumed from outside while nitro held it, when calls were
// dropped because the output fell behind, and when the guest is stopped
// with software breakpoints where hardware ones were asked for where they
// fit (at once, and when that changes as handlers' returns add breakpoints).
func reportState(ctx context.Context, sess api.Session, sub api.Subscription, name string) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	paused := false
	var resumed, dropped uint64
	note := ""
	for first := true; ; first = false {
		if !first {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
		st := sess.Stats()
		if n := st.BreakpointNote; n != note && n != "" {
			note = n
			fmt.Fprintf(os.Stderr, "nitro: %s\n", escape.String(n))
		}
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
		if d := sub.Dropped(); d != dropped {
			dropped = d
			fmt.Fprintf(os.Stderr, "nitro: the output fell behind: %d calls dropped so far (--lossless makes the guest wait instead)\n", d)
		}
	}
}

// batchWriter gathers lines and writes them out together.
type batchWriter struct {
	// ctx ending gives up a write that blocks (a pager that stopped
	// reading): Ctrl+C must detach and exit, not wait for the reader.
	ctx     context.Context
	dst     io.Writer
	buf     bytes.Buffer
	flushed int64 // bytes written whole, all of them lines
	err     error // a write given up: nothing more is written
}

func (b *batchWriter) Write(p []byte) (int, error) { return b.buf.Write(p) }

// truncater is a file, which a failed write may leave with part of a line.
type truncater interface{ Truncate(size int64) error }

// Flush writes what was gathered in one call. When the write fails part
// way (a full filesystem), a file is cut back to its last whole line.
func (b *batchWriter) Flush() error {
	if b.err != nil {
		return b.err
	}
	defer b.buf.Reset()
	if b.buf.Len() == 0 {
		return nil
	}
	n, err := b.write(b.buf.Bytes())
	if err != nil {
		if f, ok := b.dst.(truncater); ok && n > 0 {
			_ = f.Truncate(b.flushed)
		}
		return err
	}
	b.flushed += int64(n)
	return nil
}

// stopGrace is how long a write may still take once trace is told to
// stop: a reader that reads takes the last lines, one that stopped does not.
const stopGrace = time.Second

// write writes p, or gives up stopGrace after ctx ends: the write goes on
// blocked with p, which b no longer touches, until the process exits.
func (b *batchWriter) write(p []byte) (int, error) {
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := b.dst.Write(p)
		done <- result{n, err}
	}()
	select {
	case r := <-done:
		return r.n, r.err
	case <-b.ctx.Done():
	}
	grace := time.NewTimer(stopGrace)
	defer grace.Stop()
	select {
	case r := <-done:
		return r.n, r.err
	case <-grace.C:
		b.buf = bytes.Buffer{} // p stays the blocked write's
		b.err = fmt.Errorf("the output does not take what was written: %w", b.ctx.Err())
		return 0, b.err
	}
}
