package commands

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"nitro/api"
)

// streamFlags are the flags of the commands that follow a session's calls
// (trace, record): what the guest stops for, which calls are kept, when to
// stop, what to inject.
type streamFlags struct {
	syscalls string
	pid      int
	comm     string
	count    int
	duration time.Duration
	injects  injectFlag
	lossless bool
	names    []string // --syscalls split, by check
	comms    []string // --comm split, by check
}

// register adds the flags to fs; verb says what the command does with a
// call ("print", "record").
func (f *streamFlags) register(fs *flag.FlagSet, verb string) {
	fs.StringVar(&f.syscalls, "syscalls", "", verb+" only these system calls, comma-separated (the guest runs others at full speed)")
	fs.IntVar(&f.pid, "pid", 0, verb+" only calls of this process or thread id")
	fs.StringVar(&f.comm, "comm", "", verb+" only calls of processes with these names, comma-separated")
	fs.IntVar(&f.count, "count", 0, "stop after this many events")
	fs.DurationVar(&f.duration, "duration", 0, "stop after this long")
	fs.Var(&f.injects, "inject", "make calls fail without running, as strace's -e inject=: SET:error=ERRNO or SET:retval=N, "+
		"with :when=EXPR (N, N+, N+STEP, N..M), nitro's :pid=PID and :count=N; repeatable")
	fs.BoolVar(&f.lossless, "lossless", false, fmt.Sprintf("make the guest wait for a reader that falls behind, as strace does, "+
		"instead of dropping calls after %v", api.ReaderWait))
}

// wait is how long the session waits for a reader that falls behind.
func (f *streamFlags) wait() time.Duration {
	if f.lossless {
		return api.Lossless
	}
	return api.ReaderWait
}

// check checks the flags once parsed, before any file is made.
func (f *streamFlags) check() error {
	var err error
	f.names, err = syscallList(f.syscalls)
	if f.comm != "" {
		f.comms = strings.Split(f.comm, ",")
	}
	return err
}

func (f *streamFlags) match(sc *api.Syscall) bool {
	return (f.pid == 0 || sc.Process.PID == f.pid || sc.Process.TID == f.pid) &&
		(f.comms == nil || slices.Contains(f.comms, sc.Process.Comm))
}

// filter is the filter as a command line, as a recording's header keeps it.
func (f *streamFlags) filter() string {
	var parts []string
	if f.pid != 0 {
		parts = append(parts, fmt.Sprintf("--pid %d", f.pid))
	}
	if f.comm != "" {
		parts = append(parts, fmt.Sprintf("--comm %q", f.comm))
	}
	for _, in := range f.injects {
		parts = append(parts, "--inject "+in.String())
	}
	return strings.Join(parts, " ")
}

// sink takes the calls a command keeps.
type sink interface {
	// attached is called once the session is there, before any call.
	attached(ctx context.Context, sess api.Session) error
	write(sc *api.Syscall) error
	// flush is called after each batch: what was written should be out.
	flush() error
	// end is called after the last call, unless writing failed.
	end() error
}

// follow attaches to domain and hands out every call that matches until
// ctx ends, --count or --duration says, or the session ends. The flags
// are checked. Ctrl+Z (SIGTSTP) detaches before nitro stops, so that a
// stopped nitro never holds the guest, and SIGCONT attaches again.
func (f *streamFlags) follow(ctx context.Context, h api.Hypervisor, domain string, out sink) error {
	if f.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.duration)
		defer cancel()
	}
	tstp := make(chan os.Signal, 1)
	signal.Notify(tstp, syscall.SIGTSTP)
	defer signal.Stop(tstp)
	st := &followState{out: out}
	for {
		suspended, err := f.attachOnce(ctx, h, domain, st, tstp)
		if err != nil || !suspended {
			if err == nil && st.werr == nil {
				err = out.end()
			}
			return errors.Join(err, st.werr)
		}
		fmt.Fprintf(os.Stderr, "nitro: detached from %s, stopping; it attaches again when continued (fg)\n", domain)
		stopSelf(tstp)
		if ctx.Err() != nil {
			return out.end()
		}
	}
}

// followState is what lasts across the attaches of one follow.
type followState struct {
	out      sink
	attached bool // out knows the session
	kept     int
	werr     error // writing failed: the rest is drained
}

// attachOnce attaches and follows until the session ends (suspended
// false) or SIGTSTP comes (true: the session has detached).
func (f *streamFlags) attachOnce(ctx context.Context, h api.Hypervisor, domain string, st *followState, tstp <-chan os.Signal) (bool, error) {
	sess, err := h.Attach(ctx, domain, api.AttachOptions{Syscalls: f.names, PID: f.pid, Comms: f.comms})
	if err != nil {
		return false, err
	}
	defer sess.Close()
	for _, in := range f.injects {
		if err := sess.Inject(ctx, in); err != nil {
			return false, fmt.Errorf("--inject: %w", err)
		}
	}
	if !st.attached {
		if err := st.out.attached(ctx, sess); err != nil {
			return false, err
		}
		st.attached = true
	}
	sub := sess.Subscribe(1<<16, f.wait())
	runCtx, endRun := context.WithCancel(ctx)
	defer endRun()
	done := make(chan error, 1)
	go func() { done <- sess.Run(runCtx) }()
	go reportState(runCtx, sess, sub, domain)
	var suspended atomic.Bool
	go func() {
		select {
		case <-tstp:
			suspended.Store(true)
			endRun()
		case <-runCtx.Done():
		}
	}()
	for batch := range sub.C() {
		if st.werr != nil || f.count > 0 && st.kept >= f.count {
			continue // drain until the session ends
		}
		st.write(f, batch, endRun)
	}
	endRun() // the subscription is over: so is the session
	runErr := <-done
	if d := sub.Dropped(); d > 0 {
		fmt.Fprintf(os.Stderr, "nitro: %d calls dropped in all: the output fell behind\n", d)
	}
	return suspended.Load() && ctx.Err() == nil, errors.Join(runErr, sess.Close())
}

// write hands the batch's matching calls to the sink, up to --count.
func (st *followState) write(f *streamFlags, batch []api.Syscall, endRun func()) {
	for i := range batch {
		sc := &batch[i]
		if !f.match(sc) {
			continue
		}
		if st.werr = st.out.write(sc); st.werr != nil {
			break
		}
		if st.kept++; f.count > 0 && st.kept >= f.count {
			endRun()
			break
		}
	}
	if err := st.out.flush(); err != nil && st.werr == nil {
		st.werr = err
	}
	if st.werr != nil {
		endRun()
	}
}

// stopSelf stops the process, as Ctrl+Z means, and returns once it is
// continued, handling SIGTSTP again. It stops with SIGSTOP, and with tstp
// unregistered: while Go's runtime relays SIGTSTP to a channel, a signal
// the process sends itself does not stop it.
func stopSelf(tstp chan<- os.Signal) {
	signal.Stop(tstp)
	_ = syscall.Kill(os.Getpid(), syscall.SIGSTOP)
	signal.Notify(tstp, syscall.SIGTSTP)
}
