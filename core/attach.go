package core

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"nitro/api"
	"nitro/core/backend"
	"nitro/core/kvm"
	"nitro/core/kvm/gdbstub"
	"nitro/core/kvm/nitroioctl"
)

// Listeners nitro can stop a guest's vCPUs with.
const (
	// ListenerGDBStub stops the guest through QEMU's gdbstub: stock QEMU,
	// under TCG or KVM.
	ListenerGDBStub = "gdbstub"
	// ListenerNitro traps system calls with the Nitro KVM ioctls, on hosts
	// whose KVM carries the Nitro patch.
	ListenerNitro = "nitro"
)

// Listeners lists the names --listener takes, the default first.
var Listeners = []string{ListenerGDBStub, ListenerNitro}

// ErrUnknownListener is a --listener name nitro does not have.
var ErrUnknownListener = errors.New("unknown listener")

// Options choose what a session traces and how.
type Options struct {
	// Syscalls, if set, are the only system calls the guest stops for
	// (names as strace prints them); the rest run at full speed.
	Syscalls []string
	// Kernel overrides where symbols and structure layouts come from.
	Kernel Kernel
	// Listener is ListenerGDBStub ("" too) or ListenerNitro.
	Listener string
	// Breakpoints is the kind of the gdbstub listener's breakpoints; ""
	// is api.BreakpointsAuto.
	Breakpoints api.BreakpointKind
}

// Attach opens domain name on libvirt uri ("" for the default) and starts
// tracing it; no event flows until Run.
func Attach(ctx context.Context, uri, name string, opts Options) (*Session, error) {
	if err := checkDomainName(name); err != nil {
		return nil, err
	}
	if opts.Listener == "" {
		opts.Listener = ListenerGDBStub
	}
	if !slices.Contains(Listeners, opts.Listener) {
		return nil, fmt.Errorf("%w %q (want one of %v)", ErrUnknownListener, opts.Listener, Listeners)
	}
	lock, err := lockDomainSoon(name)
	if err != nil {
		return nil, err
	}
	g, err := OpenGuest(uri, name, opts.Kernel)
	if err != nil {
		lock.Close()
		return nil, err
	}
	var gd *guard
	release := func(detached bool) error {
		if gd != nil {
			if detached {
				gd.release()
			} else {
				gd.abandon() // let it try once more from outside
			}
		}
		return errors.Join(g.Close(), lock.Close())
	}
	fail := func(err error) (*Session, error) {
		return nil, errors.Join(fmt.Errorf("attaching to %s: %w", name, err), release(true))
	}
	var l kvm.Listener
	switch opts.Listener {
	case ListenerNitro:
		l, err = g.nitroListener(opts.Syscalls)
	default:
		var cfg gdbstub.Config
		if cfg, err = gdbConfig(g.backend, opts.Syscalls, opts.Breakpoints); err != nil {
			return fail(err)
		}
		// The guard detaches through the stub if this process dies.
		if gd, err = startGuard(g.conn.URI(), name); err != nil {
			return fail(err)
		}
		// A guest someone paused stays paused until they resume it.
		if cfg.StartPaused, err = g.dom.PausedByUser(); err != nil {
			return fail(err)
		}
		var sock string
		if sock, err = g.dom.StartGDBServer(gdbDir(name)); err == nil {
			// Every QEMU of the host runs as the user the socket's
			// directory was lent to: only this one's socket will do.
			if cfg.Peer, err = g.dom.QEMUPid(); err == nil {
				l, err = gdbstub.Dial(ctx, sock, cfg)
			}
		}
	}
	if err != nil {
		return fail(err)
	}
	s := newSession(api.Info{Domain: name, Listener: opts.Listener, OS: g.backend.OS(), Kernel: g.Kernel()}, l, g.backend)
	s.release = release
	if opts.Listener == ListenerGDBStub {
		s.keepPaused = func() bool {
			paused, err := g.dom.PausedByUser()
			return err == nil && paused
		}
		s.redetach = func(ctx context.Context) error { return detach(ctx, g.dom) }
		if len(opts.Syscalls) > 0 {
			// A handler's stop comes after the kernel chose the call: too
			// late to skip it.
			s.inj.refuse = fmt.Errorf("fault injection with --syscalls (the gdbstub listener then stops at a call's handler, once the kernel has chosen the call; trace without --syscalls to inject): %w", api.ErrNotSupported)
		}
	}
	return s, nil
}

// gdbConfig is where the gdbstub listener stops for the back end: every
// call's entry and exit, or only the handlers of the named calls; and with
// which kind of breakpoints.
func gdbConfig(b backend.Backend, syscalls []string, kind api.BreakpointKind) (gdbstub.Config, error) {
	stops := b.Stops()
	cfg := gdbstub.Config{
		SyscallEntry: stops.Entry, SyscallExit: stops.Exit,
		CompatEntries: stops.CompatEntries, CompatExits: stops.CompatExits,
	}
	switch kind {
	case "", api.BreakpointsAuto:
		cfg.Breakpoints = gdbstub.AutoBreakpoints
	case api.BreakpointsHardware:
		cfg.Breakpoints = gdbstub.HardwareBreakpoints
	case api.BreakpointsSoftware:
		cfg.Breakpoints = gdbstub.SoftwareBreakpoints
	default:
		_, err := api.ParseBreakpointKind(string(kind))
		return cfg, err
	}
	for _, name := range syscalls {
		a, err := b.Handlers(name)
		if err != nil {
			return cfg, err
		}
		cfg.Handlers = append(cfg.Handlers, a...)
	}
	return cfg, nil
}

// numberer is a back end that knows its system calls' numbers, which the
// Nitro ioctls filter on.
type numberer interface {
	Number(name string) (uint64, error)
}

// nitroListener traps the guest's system calls with the Nitro ioctls.
// Where the host's KVM lacks them it fails at once, saying so.
func (g *Guest) nitroListener(syscalls []string) (kvm.Listener, error) {
	var opts nitroioctl.Options
	if len(syscalls) > 0 {
		n, ok := g.backend.(numberer)
		if !ok {
			return nil, fmt.Errorf("filtering system calls with the nitro listener on %s guests: %w", g.backend.OS(), api.ErrNotSupported)
		}
		for _, name := range syscalls {
			nr, err := n.Number(name)
			if err != nil {
				return nil, err
			}
			opts.Syscalls = append(opts.Syscalls, nr)
		}
	}
	pid, err := g.dom.QEMUPid()
	if err != nil {
		return nil, err
	}
	l, err := nitroioctl.Attach(pid, opts)
	if errors.Is(err, kvm.ErrNotSupported) {
		return nil, fmt.Errorf("the nitro listener needs a host KVM with the Nitro patch (use --listener gdbstub): %w", err)
	}
	return l, err
}
