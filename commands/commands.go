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

// Domains lists the hypervisor's domains as a table.
func Domains(ctx context.Context, h api.Hypervisor, stdout io.Writer) error {
	doms, err := h.Domains(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tVCPUS\tMEMORY")
	for _, d := range doms {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d MiB\n", escape.String(d.Name), d.State, d.VCPUs, d.MemoryKiB/1024)
	}
	return tw.Flush()
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
