package main

import (
	"strings"
	"testing"

	"nitro/core"
	"nitro/remote"
)

func TestOneURIIsTheHostItself(t *testing.T) {
	h := &core.Hypervisor{Listener: core.ListenerGDBStub}
	hv, err := hypervisor(h, []string{"qemu:///session"}, "nitro")
	if err != nil || hv != h || h.URI != "qemu:///session" {
		t.Errorf("hypervisor = %T %v, URI %q; want h itself with the URI", hv, err, h.URI)
	}
}

func TestSeveralURIsAreJoined(t *testing.T) {
	uris := []string{"qemu:///system", "qemu+ssh://root@hv2/system"}
	hv, err := hypervisor(&core.Hypervisor{}, uris, "nitro")
	if err != nil {
		t.Fatal(err)
	}
	m, ok := hv.(*remote.Many)
	if !ok || len(m.Hosts) != 2 || m.Hosts[0].Name != uris[0] || m.Hosts[1].Name != uris[1] {
		t.Fatalf("hypervisor = %#v, want both hosts named by their URIs", hv)
	}
	if h, ok := m.Hosts[0].Hypervisor.(*core.Hypervisor); !ok || h.URI != uris[0] {
		t.Errorf("first host %#v, want the local hypervisor of %s", m.Hosts[0].Hypervisor, uris[0])
	}
	if _, ok := m.Hosts[1].Hypervisor.(*remote.SSH); !ok {
		t.Errorf("second host %T, want a far nitro over SSH", m.Hosts[1].Hypervisor)
	}
	if _, err := hypervisor(&core.Hypervisor{}, []string{uris[0], uris[0]}, "nitro"); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("the same -c twice: %v, want refused", err)
	}
}

func TestServeAndAgentTakeOneURI(t *testing.T) {
	for _, cmd := range []string{"serve", "agent"} {
		err := run([]string{"-c", "qemu:///system", "-c", "qemu:///session", cmd}, &strings.Builder{})
		if err == nil || !strings.Contains(err.Error(), "takes one -c") {
			t.Errorf("%s with two -c: %v, want refused", cmd, err)
		}
	}
}

// A qemu+ssh URI's hypervisor sends the --symbols and --profile files; the
// agent's reads the files it is given in their place, the rest unchanged.
func TestKernelFilesGoToTheFarSide(t *testing.T) {
	h := &core.Hypervisor{Kernel: core.Kernel{Symbols: "/near/kallsyms", Profile: "/near/profile.json", OS: "linux"}}
	hv, err := hypervisor(h, []string{"qemu+ssh://root@hv2/system"}, "nitro")
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := hv.(*remote.SSH); !ok || s.Symbols != "/near/kallsyms" || s.Profile != "/near/profile.json" {
		t.Errorf("hypervisor %#v, want the files to send", hv)
	}
	far := agentHypervisor{&core.Hypervisor{URI: "qemu:///system", Kernel: core.Kernel{OS: "linux"}}}
	got, ok := far.WithKernel("/tmp/sent/symbols", "").(*core.Hypervisor)
	if !ok || got.Kernel != (core.Kernel{Symbols: "/tmp/sent/symbols", OS: "linux"}) || got.URI != "qemu:///system" {
		t.Errorf("WithKernel = %#v", got)
	}
	if far.Kernel.Symbols != "" {
		t.Error("WithKernel changed the agent's own hypervisor")
	}
}
