package main

import (
	"nitro/api"
	"nitro/core"
	"nitro/remote"
)

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
	return &remote.SSH{Target: t, Libvirt: h, Nitro: farNitro, Flags: flags}, nil
}
