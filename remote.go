package main

import (
	"fmt"
	"slices"
	"time"

	"nitro/api"
	"nitro/core"
	"nitro/remote"
)

// hostWait is how long the domain list of several hosts waits for each:
// about what an SSH connection to a host that is up takes at worst.
const hostWait = 10 * time.Second

// hypervisor is the hypervisor of the -c URIs: h's own for none (the
// default URI) or one, and for several each URI's joined by remote.Many,
// named by its URI. h holds the other flags; its URI becomes the first.
func hypervisor(h *core.Hypervisor, uris []string, farNitro string) (api.Hypervisor, error) {
	if len(uris) > 0 {
		h.URI = uris[0]
	}
	if len(uris) <= 1 {
		return oneHypervisor(h, farNitro)
	}
	m := &remote.Many{Wait: hostWait}
	for i, uri := range uris {
		if slices.Contains(uris[:i], uri) {
			return nil, fmt.Errorf("-c %s given twice", uri)
		}
		hu := *h
		hu.URI = uri
		hv, err := oneHypervisor(&hu, farNitro)
		if err != nil {
			return nil, err
		}
		m.Hosts = append(m.Hosts, remote.Host{Name: uri, Hypervisor: hv})
	}
	return m, nil
}

// oneHypervisor is the hypervisor of h's URI: h itself on this host, or
// through a far nitro for a qemu+ssh URI.
func oneHypervisor(h *core.Hypervisor, farNitro string) (api.Hypervisor, error) {
	if remote.IsSSH(h.URI) {
		return remoteHypervisor(h, farNitro)
	}
	return h, nil
}

// remoteHypervisor is the hypervisor of a qemu+ssh URI: libvirt's remote
// driver for the domain list and run control (h, as virsh would), and a
// far nitro run over ssh (farNitro, "nitro" on the far PATH by default)
// for what needs the guest's host: attach, inspect, detach.
func remoteHypervisor(h *core.Hypervisor, farNitro string) (api.Hypervisor, error) {
	t, err := remote.ParseURI(h.URI)
	if err != nil {
		return nil, err
	}
	var flags []string
	if h.Listener != "" && h.Listener != core.ListenerGDBStub {
		flags = append(flags, "--listener", h.Listener)
	}
	if h.Kernel.OS != "" {
		flags = append(flags, "--os", h.Kernel.OS)
	}
	if h.Breakpoints != "" {
		flags = append(flags, "--breakpoints", string(h.Breakpoints))
	}
	return &remote.SSH{Target: t, Libvirt: h, Nitro: farNitro, Flags: flags, Symbols: h.Kernel.Symbols, Profile: h.Kernel.Profile}, nil
}

// agentHypervisor is the hypervisor nitro agent serves: h, which also reads
// guests' kernels from the files a client sent (remote.KernelFiler).
type agentHypervisor struct{ *core.Hypervisor }

func (a agentHypervisor) WithKernel(symbols, profile string) api.Hypervisor {
	h := *a.Hypervisor
	if symbols != "" {
		h.Kernel.Symbols = symbols
	}
	if profile != "" {
		h.Kernel.Profile = profile
	}
	return &h
}
