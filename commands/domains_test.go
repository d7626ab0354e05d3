package commands

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"nitro/api"
	"nitro/remote"
	"nitro/ui/uitest"
)

// refusing is a host whose libvirt refuses the connection, with a control
// character in its error, as a far host may send.
type refusing struct{ api.Hypervisor }

func (refusing) Domains(context.Context) ([]api.Domain, error) {
	return nil, errors.New("cannot connect\x1b[2J")
}

func TestDomainsOfOneHostHaveNoHostColumn(t *testing.T) {
	var out bytes.Buffer
	if err := Domains(context.Background(), uitest.NewHypervisor(), &out); err != nil {
		t.Fatal(err)
	}
	if want := "NAME  STATE    VCPUS  MEMORY\ntest  running  2      8192 MiB\n"; out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestDomainsOfSeveralHostsNameThemAndTheSilentOnes(t *testing.T) {
	m := &remote.Many{Wait: time.Second, Hosts: []remote.Host{
		{Name: "qemu:///system", Hypervisor: uitest.NewHypervisor()},
		{Name: "hv2", Hypervisor: refusing{}},
	}}
	var out bytes.Buffer
	err := Domains(context.Background(), m, &out)
	if want := "HOST            NAME  STATE    VCPUS  MEMORY\nqemu:///system  test  running  2      8192 MiB\n"; out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
	if err == nil || !strings.Contains(err.Error(), "hv2 did not answer: cannot connect") || strings.Contains(err.Error(), "\x1b") {
		t.Errorf("error %q, want hv2 named with its error escaped", err)
	}
}
