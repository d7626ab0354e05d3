package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"nitro/core"
	"nitro/core/backend"
	"nitro/core/kvm"
	"nitro/core/kvm/domain"
	"nitro/themes"
	"nitro/ui"
	"nitro/ui/model"
)

// tuiOptions are the flags of the interactive mode.
type tuiOptions struct {
	uri, domain, theme string
	kernel             core.Kernel
	history            int
}

func runTUI(o tuiOptions) error {
	pal, err := themes.Select(o.theme, os.Getenv)
	if err != nil {
		return err
	}
	path, err := keysFile()
	if err != nil {
		return err
	}
	keys, err := loadKeyMap(path)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	return ui.Run(ctx, ui.Options{
		Hypervisor: &hypervisor{uri: o.uri, kernel: o.kernel, history: o.history},
		Domain:     o.domain,
		Palette:    pal,
		Keys:       keys,
		History:    o.history,
	})
}

// hypervisor is the UI's view of libvirt and the core frontend.
type hypervisor struct {
	uri     string
	kernel  core.Kernel
	history int
}

func (h *hypervisor) Domains(context.Context) ([]model.Domain, error) {
	conn, err := domain.Open(h.uri)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	infos, err := conn.List()
	if err != nil {
		return nil, err
	}
	doms := make([]model.Domain, len(infos))
	for i, d := range infos {
		doms[i] = model.Domain{Name: d.Name, State: d.State.String(), Paused: d.State == domain.Paused, VCPUs: d.VCPUs, MemoryKiB: d.MemoryKiB}
	}
	return doms, nil
}

func (h *hypervisor) Control(_ context.Context, name string, a model.Action) error {
	d, err := domain.OpenDomain(h.uri, name)
	if err != nil {
		return err
	}
	defer d.Close()
	switch a {
	case model.Start:
		return d.Start()
	case model.Shutdown:
		return d.Shutdown()
	case model.Suspend:
		return d.Suspend()
	case model.Resume:
		return d.Resume()
	}
	return fmt.Errorf("unknown action %v", a)
}

func (h *hypervisor) Attach(ctx context.Context, name string) (model.Session, error) {
	s, err := core.Attach(ctx, h.uri, name, core.Options{Kernel: h.kernel})
	if err != nil {
		return nil, err
	}
	limit := h.history
	if limit <= 0 {
		limit = 100_000
	}
	sess := &session{s: s, sub: s.Subscribe(limit, true), held: make(chan model.Held, 1)}
	go sess.forwardHolds()
	go s.Run(context.Background()) // ends with Close
	return sess, nil
}

// session adapts a core session to what the UI needs.
type session struct {
	s    *core.Session
	sub  *core.Subscription
	held chan model.Held
}

func (a *session) Info() model.Info {
	return model.Info{Domain: a.s.Name(), Listener: "gdbstub", Kernel: shortKernel(a.s.Kernel())}
}

// shortKernel turns linux_banner ("Linux version 6.1.0-28-amd64 (...) ...")
// into "Linux 6.1.0-28-amd64".
func shortKernel(banner string) string {
	f := strings.Fields(banner)
	if len(f) >= 3 && f[1] == "version" {
		return f[0] + " " + f[2]
	}
	return banner
}

func (a *session) Batches() <-chan []backend.Syscall { return a.sub.C }
func (a *session) Held() <-chan model.Held           { return a.held }

func (a *session) forwardHolds() {
	for h := range a.s.Holds() {
		select { // the newest hold replaces one the UI has not taken
		case <-a.held:
		default:
		}
		a.held <- toModelHeld(h)
	}
}

func toModelHeld(h core.Held) model.Held {
	regs := make([]model.Register, len(kvm.RegNames))
	for i, n := range kvm.RegNames {
		v, _ := h.Regs.Ref(n)
		regs[i] = model.Register{Name: n, Value: *v}
	}
	return model.Held{Call: h.Call, Regs: regs}
}

func (a *session) Processes(context.Context) ([]model.Process, error) {
	tasks, err := a.s.Processes()
	if err != nil {
		return nil, err
	}
	var procs []model.Process
	for _, t := range tasks {
		if t.PID == t.TID {
			procs = append(procs, model.Process{PID: t.PID, PPID: t.PPID, Comm: t.Comm})
		}
	}
	return procs, nil
}

func (a *session) Stats() model.Stats {
	return model.Stats{Total: a.s.Stats().Events, Dropped: a.sub.Dropped(), Paused: a.s.Paused()}
}

func (a *session) Break(_ context.Context, b model.Breakpoint) error {
	a.s.Break(core.Breakpoint(b))
	return nil
}

func (a *session) ClearBreak(_ context.Context, b model.Breakpoint) error {
	a.s.ClearBreak(core.Breakpoint(b))
	return nil
}

func (a *session) Edit(ctx context.Context, e model.Edit) (model.Held, error) {
	h, err := a.s.Edit(ctx, func(regs *kvm.Regs, call *backend.Call) error {
		switch {
		case e.Reg != "":
			r, ok := regs.Ref(e.Reg)
			if !ok {
				return fmt.Errorf("no register %q", e.Reg)
			}
			*r = e.Value
			return nil
		case e.Data != nil:
			return call.Arguments.WriteBytes(e.Arg, e.Data)
		}
		return call.Arguments.Set(e.Arg, e.Value)
	})
	if err != nil {
		return model.Held{}, err
	}
	return toModelHeld(h), nil
}

func (a *session) Continue(ctx context.Context) error { return a.s.Continue(ctx) }

func (a *session) Pause(context.Context) error { return a.s.Pause() }

func (a *session) Resume(context.Context) error {
	a.s.Resume()
	return nil
}
func (a *session) Close() error { return a.s.Close() }
