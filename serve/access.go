package serve

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"nitro/api"
)

// errNotOffered: what an SSH session may not do at all.
var errNotOffered = errors.New("not offered over SSH")

// access is the hypervisor as one SSH session sees it: the domains served,
// run control for controllers only, and attaching that joins the domain's
// shared session.
type access struct {
	hub     *hub
	who     Person
	domains []string // served; all when empty
}

func (a *access) served(name string) error {
	if len(a.domains) == 0 || slices.Contains(a.domains, name) {
		return nil
	}
	return fmt.Errorf("domain %q is not served here", name)
}

func (a *access) Domains(ctx context.Context) ([]api.Domain, error) {
	ds, err := a.hub.hv.Domains(ctx)
	return slices.DeleteFunc(ds, func(d api.Domain) bool { return a.served(d.Name) != nil }), err
}

func (a *access) Control(ctx context.Context, name string, act api.Action) error {
	if err := a.served(name); err != nil {
		return err
	}
	err := api.ErrReadOnly
	if a.who.Role == Controller {
		err = a.hub.hv.Control(ctx, name, act)
	}
	a.hub.audit.log(a.who, name, act.String(), err)
	return err
}

func (a *access) Attach(ctx context.Context, name string, _ api.AttachOptions) (api.Session, error) {
	if err := a.served(name); err != nil {
		return nil, err
	}
	return a.hub.open(ctx, name, a.who)
}

func (a *access) Inspect(context.Context, string) (api.Guest, error) { return nil, errNotOffered }
func (a *access) Detach(context.Context, string) error               { return errNotOffered }
