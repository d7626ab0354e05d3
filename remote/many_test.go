package remote_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"nitro/api"
	"nitro/remote"
	"nitro/ui/uitest"
)

// stuck is a host whose domain list does not come until the test ends,
// context or not, as libvirt's connect to a host that is down.
type stuck struct {
	api.Hypervisor
	release chan struct{}
}

func newStuck(t *testing.T) stuck {
	s := stuck{release: make(chan struct{})}
	t.Cleanup(func() { close(s.release) })
	return s
}

func (s stuck) Domains(context.Context) ([]api.Domain, error) {
	<-s.release
	return nil, errors.New("too late")
}

// failing is a host whose libvirt refuses the connection.
type failing struct{ api.Hypervisor }

func (failing) Domains(context.Context) ([]api.Domain, error) {
	return nil, errors.New("cannot connect to hv3")
}

func TestManyListsTheHostsThatAnswerInTime(t *testing.T) {
	a, b := uitest.NewHypervisor(), uitest.NewHypervisor()
	b.Add(api.Domain{Name: "lab", State: "running"}, nil)
	m := &remote.Many{Wait: 100 * time.Millisecond, Hosts: []remote.Host{
		{Name: "qemu:///system", Hypervisor: a},
		{Name: "hv2", Hypervisor: newStuck(t)},
		{Name: "qemu+ssh://root@hv3/system", Hypervisor: b},
		{Name: "hv4", Hypervisor: failing{}},
	}}
	began := time.Now()
	doms, failed := m.HostDomains(context.Background())
	if took := time.Since(began); took > 2*time.Second {
		t.Errorf("the list took %v with a stuck host; want about Wait", took)
	}
	var got []string
	for _, d := range doms {
		got = append(got, d.Address())
	}
	want := []string{"qemu:///system/test", "qemu+ssh://root@hv3/system/test", "qemu+ssh://root@hv3/system/lab"}
	if !slices.Equal(got, want) {
		t.Errorf("domains %q, want %q", got, want)
	}
	if len(failed) != 2 || failed[0].Host != "hv2" || !strings.Contains(failed[0].Err.Error(), "no answer") ||
		failed[1].Host != "hv4" || !strings.Contains(failed[1].Err.Error(), "hv3") {
		t.Errorf("failed hosts %v, want hv2 (no answer) and hv4 (its error)", failed)
	}
	if list, err := m.Domains(context.Background()); err != nil || len(list) != 3 {
		t.Errorf("Domains = %d domains, %v; want 3 and no error while a host answers", len(list), err)
	}
}

func TestManyFailsWhenNoHostAnswers(t *testing.T) {
	m := &remote.Many{Wait: 50 * time.Millisecond, Hosts: []remote.Host{{Name: "hv2", Hypervisor: newStuck(t)}, {Name: "hv4", Hypervisor: failing{}}}}
	_, err := m.Domains(context.Background())
	if err == nil || !strings.Contains(err.Error(), "hv2: ") || !strings.Contains(err.Error(), "hv4: cannot connect") {
		t.Errorf("Domains error %v, want both hosts named", err)
	}
}

func TestManyRoutesByHost(t *testing.T) {
	a, b := uitest.NewHypervisor(), uitest.NewHypervisor()
	m := &remote.Many{Wait: time.Second, Hosts: []remote.Host{{Name: "qemu:///system", Hypervisor: a}, {Name: "qemu+ssh://hv2/system", Hypervisor: b}}}
	ctx := context.Background()
	if err := m.Control(ctx, "qemu+ssh://hv2/system/test", api.Suspend); err != nil {
		t.Fatal(err)
	}
	if len(a.Controls()) != 0 || len(b.Controls()) != 1 || !strings.HasSuffix(b.Controls()[0], " test") {
		t.Errorf("controls: first host %q, second %q; want the second's test only", a.Controls(), b.Controls())
	}
	for _, addr := range []string{"test", "hv9/test", "qemu:///system/x/test"} {
		if err := m.Detach(ctx, addr); err == nil || !strings.Contains(err.Error(), "HOST/NAME") {
			t.Errorf("Detach(%q) = %v, want an error asking for HOST/NAME", addr, err)
		}
	}
}
