package core

import (
	"context"
	"fmt"

	"nitro/api"
	"nitro/core/kvm/domain"
)

// Hypervisor is nitro's frontend on one libvirt connection: the API's
// Hypervisor, which every face uses.
type Hypervisor struct {
	// URI is the libvirt connection; "" for the default.
	URI string
	// Kernel overrides where symbols and structure layouts come from.
	Kernel Kernel
	// Listener is ListenerGDBStub ("" too) or ListenerNitro.
	Listener string
	// Breakpoints is the kind of the gdbstub listener's breakpoints; ""
	// is api.BreakpointsAuto.
	Breakpoints api.BreakpointKind
}

var _ api.Hypervisor = (*Hypervisor)(nil)

// Domains lists the connection's domains.
func (h *Hypervisor) Domains(context.Context) ([]api.Domain, error) {
	conn, err := domain.Open(h.URI)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	infos, err := conn.List()
	if err != nil {
		return nil, err
	}
	doms := make([]api.Domain, len(infos))
	for i, d := range infos {
		doms[i] = api.Domain{Name: d.Name, State: d.State.String(), Paused: d.State == domain.Paused, VCPUs: d.VCPUs, MemoryKiB: d.MemoryKiB}
	}
	return doms, nil
}

// Control changes a domain's run state through libvirt.
func (h *Hypervisor) Control(_ context.Context, name string, a api.Action) error {
	d, err := domain.OpenDomain(h.URI, name)
	if err != nil {
		return err
	}
	defer d.Close()
	switch a {
	case api.Start:
		return d.Start()
	case api.Shutdown:
		return d.Shutdown()
	case api.Suspend:
		return d.Suspend()
	case api.Resume:
		return d.Resume()
	}
	return fmt.Errorf("unknown action %v", a)
}

// Attach starts tracing a domain; see Attach.
func (h *Hypervisor) Attach(ctx context.Context, name string, o api.AttachOptions) (api.Session, error) {
	s, err := Attach(ctx, h.URI, name, Options{Syscalls: o.Syscalls, Kernel: h.Kernel, Listener: h.Listener, Breakpoints: h.Breakpoints})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Inspect opens a running guest's memory and kernel (see OpenGuest), or a
// memory dump named "dump:FILE" (see OpenDump).
func (h *Hypervisor) Inspect(_ context.Context, name string) (api.Guest, error) {
	if d, ok, err := inspectDump(name, h.Kernel); ok {
		return d, err
	}
	g, err := OpenGuest(h.URI, name, h.Kernel)
	if err != nil {
		return nil, err
	}
	return g, nil
}

// Detach frees a domain a nitro may have left behind; see Detach.
func (h *Hypervisor) Detach(ctx context.Context, name string) error {
	return Detach(ctx, h.URI, name)
}
