package commands

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
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
	names    []string // --syscalls split, by check
}

// register adds the flags to fs; verb says what the command does with a
// call ("print", "record").
func (f *streamFlags) register(fs *flag.FlagSet, verb string) {
	fs.StringVar(&f.syscalls, "syscalls", "", verb+" only these system calls, comma-separated (the guest runs others at full speed)")
	fs.IntVar(&f.pid, "pid", 0, verb+" only calls of this process or thread id")
	fs.StringVar(&f.comm, "comm", "", verb+" only calls of processes with this name")
	fs.IntVar(&f.count, "count", 0, "stop after this many events")
	fs.DurationVar(&f.duration, "duration", 0, "stop after this long")
	fs.Var(&f.injects, "inject", "make calls fail without running, as strace's -e inject=: SET:error=ERRNO or SET:retval=N, "+
		"with :when=EXPR (N, N+, N+STEP, N..M), nitro's :pid=PID and :count=N; repeatable")
}

// check checks the flags once parsed, before any file is made.
func (f *streamFlags) check() error {
	var err error
	f.names, err = syscallList(f.syscalls)
	return err
}

func (f *streamFlags) match(sc *api.Syscall) bool {
	return (f.pid == 0 || sc.Process.PID == f.pid || sc.Process.TID == f.pid) &&
		(f.comm == "" || sc.Process.Comm == f.comm)
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
// are checked.
func (f *streamFlags) follow(ctx context.Context, h api.Hypervisor, domain string, out sink) error {
	if f.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.duration)
		defer cancel()
	}
	sess, err := h.Attach(ctx, domain, api.AttachOptions{Syscalls: f.names})
	if err != nil {
		return err
	}
	defer sess.Close()
	for _, in := range f.injects {
		if err := sess.Inject(ctx, in); err != nil {
			return fmt.Errorf("--inject: %w", err)
		}
	}
	if err := out.attached(ctx, sess); err != nil {
		return err
	}
	sub := sess.Subscribe(1<<16, false)
	runCtx, endRun := context.WithCancel(ctx)
	defer endRun()
	done := make(chan error, 1)
	go func() { done <- sess.Run(runCtx) }()
	go reportPauses(runCtx, sess, domain)

	kept := 0
	var werr error
	for batch := range sub.C() {
		if werr != nil || f.count > 0 && kept >= f.count {
			continue // drain until the session ends
		}
		for i := range batch {
			sc := &batch[i]
			if !f.match(sc) {
				continue
			}
			if werr = out.write(sc); werr != nil {
				break
			}
			if kept++; f.count > 0 && kept >= f.count {
				endRun()
				break
			}
		}
		if err := out.flush(); err != nil && werr == nil {
			werr = err
		}
		if werr != nil {
			endRun()
		}
	}
	endRun() // the subscription is over: so is the session
	runErr := <-done
	if werr == nil {
		werr = out.end()
	}
	return errors.Join(runErr, werr, sess.Close())
}
