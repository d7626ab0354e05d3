package remote

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"nitro/api"
)

// Host is one connection of several: its label (the -c URI), which
// prefixes its domains' addresses, and its hypervisor.
type Host struct {
	Name string
	api.Hypervisor
}

// Many joins several hosts' hypervisors into one (nitro -c A -c B): the
// domain list is their union, each domain naming its host, and a domain is
// addressed as HOST/NAME since names may clash across hosts.
type Many struct {
	Hosts []Host
	// Wait bounds how long the list waits for a host, so that one host
	// down or slow does not hold the others' domains back.
	Wait time.Duration
}

var (
	_ api.Hypervisor = (*Many)(nil)
	_ api.Hosts      = (*Many)(nil)
)

// HostDomains asks every host at once and gives, in the hosts' order, the
// domains of those that answered within Wait and the errors of the others.
func (m *Many) HostDomains(ctx context.Context) ([]api.Domain, []api.HostError) {
	ctx, cancel := context.WithTimeout(ctx, m.Wait)
	defer cancel()
	type answer struct {
		list []api.Domain
		err  error
	}
	answers := make([]chan answer, len(m.Hosts))
	for i, h := range m.Hosts {
		answers[i] = make(chan answer, 1) // a host answering late does not block
		go func() {
			list, err := h.Domains(ctx)
			answers[i] <- answer{list, err}
		}()
	}
	var doms []api.Domain
	var failed []api.HostError
	for i, h := range m.Hosts {
		var a answer
		select {
		case a = <-answers[i]:
		case <-ctx.Done():
			select { // a host that answered in time while an earlier one was awaited
			case a = <-answers[i]:
			default:
				a.err = fmt.Errorf("no answer in %v", m.Wait)
			}
		}
		if a.err != nil {
			failed = append(failed, api.HostError{Host: h.Name, Err: a.err})
			continue
		}
		for _, d := range a.list {
			d.Host = h.Name
			doms = append(doms, d)
		}
	}
	return doms, failed
}

// Domains implements api.Hypervisor: the hosts that answered, an error only
// when none did (a face that shows hosts asks HostDomains).
func (m *Many) Domains(ctx context.Context) ([]api.Domain, error) {
	doms, failed := m.HostDomains(ctx)
	if len(failed) == len(m.Hosts) {
		errs := make([]error, len(failed))
		for i, f := range failed {
			errs[i] = fmt.Errorf("%s: %w", f.Host, f.Err)
		}
		return nil, errors.Join(errs...)
	}
	return doms, nil
}

// route finds the host of address HOST/NAME and the name there.
func (m *Many) route(addr string) (api.Hypervisor, string, error) {
	for _, h := range m.Hosts {
		if name, ok := strings.CutPrefix(addr, h.Name+"/"); ok && !strings.Contains(name, "/") {
			return h.Hypervisor, name, nil
		}
	}
	hosts := make([]string, len(m.Hosts))
	for i, h := range m.Hosts {
		hosts[i] = h.Name
	}
	return nil, "", fmt.Errorf("domain %q: with several -c, name it HOST/NAME, HOST one of %s", addr, strings.Join(hosts, ", "))
}

// Control implements api.Hypervisor on the domain's host.
func (m *Many) Control(ctx context.Context, addr string, a api.Action) error {
	hv, name, err := m.route(addr)
	if err != nil {
		return err
	}
	return hv.Control(ctx, name, a)
}

// Attach implements api.Hypervisor on the domain's host.
func (m *Many) Attach(ctx context.Context, addr string, o api.AttachOptions) (api.Session, error) {
	hv, name, err := m.route(addr)
	if err != nil {
		return nil, err
	}
	return hv.Attach(ctx, name, o)
}

// Inspect implements api.Hypervisor on the domain's host.
func (m *Many) Inspect(ctx context.Context, addr string) (api.Guest, error) {
	hv, name, err := m.route(addr)
	if err != nil {
		return nil, err
	}
	return hv.Inspect(ctx, name)
}

// Detach implements api.Hypervisor on the domain's host.
func (m *Many) Detach(ctx context.Context, addr string) error {
	hv, name, err := m.route(addr)
	if err != nil {
		return err
	}
	return hv.Detach(ctx, name)
}
