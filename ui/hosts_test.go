package ui_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest"

	"nitro/api"
	"nitro/remote"
	"nitro/themes"
	"nitro/ui"
	"nitro/ui/uitest"
)

// unreachable is a host whose connection fails, its error carrying a
// terminal escape as a hostile or broken far side might.
type unreachable struct{ api.Hypervisor }

func (unreachable) Domains(context.Context) ([]api.Domain, error) {
	return nil, errors.New("ssh: connect to host hv3 port 22: Connection refused\x1b[31m")
}

// TestDomainsOfSeveralHosts: the list groups the domains under their hosts,
// shows the host that did not answer with its error made plain, and a key
// acts on the domain of the host it is under, though the names clash.
func TestDomainsOfSeveralHosts(t *testing.T) {
	a, b := uitest.NewHypervisor(), uitest.NewHypervisor()
	b.Add(api.Domain{Name: "lab", State: "paused", Paused: true, VCPUs: 1, MemoryKiB: 1 << 19}, nil)
	hv := &remote.Many{Wait: time.Second, Hosts: []remote.Host{
		{Name: "qemu:///system", Hypervisor: a},
		{Name: "qemu+ssh://root@hv2/system", Hypervisor: b},
		{Name: "qemu+ssh://root@hv3/system", Hypervisor: unreachable{}},
	}}
	pal, err := themes.Lookup("none")
	if err != nil {
		t.Fatal(err)
	}
	m := ui.New(context.Background(), ui.Options{Hypervisor: hv, Palette: pal, Keys: *uitest.Keys(), Refresh: time.Hour})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	t.Cleanup(func() { _ = tm.Quit() })
	f := &fixture{t: t, tm: tm}
	f.waitFor("qemu+ssh://root@hv2/system", "lab", "did not answer")
	f.keys("j", "p") // the second "test", on hv2
	f.until("hv2's test paused", func() bool { return len(b.Controls()) == 1 })
	if got := b.Controls(); !slices.Equal(got, []string{"pause test"}) || len(a.Controls()) != 0 {
		t.Errorf("controls: hv2 %q, this host %q; want hv2's test paused only", got, a.Controls())
	}
	f.waitFor("> test                     paused") // the list read again after the pause
	golden(t, f.screen())
}
