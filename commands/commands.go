package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"nitro/api"
	"nitro/internal/escape"
)

// ErrUsage is a command line a command cannot make sense of; the caller
// points the user at the help.
var ErrUsage = errors.New("see nitro -h")

// Domains lists the hypervisor's domains as a table. Over several hosts
// (api.Hosts) a HOST column comes first, the domains of the hosts that
// answered are printed, and the others make the error, so that a script
// sees both the list and that it is incomplete.
func Domains(ctx context.Context, h api.Hypervisor, stdout io.Writer) error {
	hosts, several := h.(api.Hosts)
	var doms []api.Domain
	var failed []api.HostError
	if several {
		doms, failed = hosts.HostDomains(ctx)
	} else {
		var err error
		if doms, err = h.Domains(ctx); err != nil {
			return err
		}
	}
	tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
	if several {
		fmt.Fprint(tw, "HOST\t")
	}
	fmt.Fprintln(tw, "NAME\tSTATE\tVCPUS\tMEMORY")
	for _, d := range doms {
		if several {
			fmt.Fprintf(tw, "%s\t", escape.String(d.Host))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d MiB\n", escape.String(d.Name), d.State, d.VCPUs, d.MemoryKiB/1024)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	errs := make([]error, len(failed))
	for i, f := range failed {
		errs[i] = fmt.Errorf("%s did not answer: %s", escape.String(f.Host), escape.String(f.Err.Error()))
	}
	return errors.Join(errs...)
}

// Detach frees the domain named in args that a nitro may have left behind.
func Detach(ctx context.Context, h api.Hypervisor, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("detach needs one DOMAIN (%w)", ErrUsage)
	}
	return h.Detach(ctx, args[0])
}

// Kernel prints what nitro found of the guest's kernel, in the forms
// --symbols and --profile read back: what is "symbols" or "profile". For
// a guest whose memory changes, or to keep with a trace.
func Kernel(ctx context.Context, h api.Hypervisor, what string, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("%s needs one DOMAIN (%w)", what, ErrUsage)
	}
	g, err := h.Inspect(ctx, args[0])
	if err != nil {
		return err
	}
	defer g.Close()
	if what == "symbols" {
		return g.WriteSymbols(stdout)
	}
	return g.WriteProfile(stdout)
}
