// Command nitro watches the system calls of a running libvirt/QEMU guest from
// outside the guest.
//
//	nitro [-c URI] domains    list libvirt domains
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"nitro/core/kvm/domain"
)

const usage = `usage: nitro [-c URI] COMMAND [ARGS]

Commands:
  domains    list libvirt domains with state, vCPUs and memory

Options:
  -c URI     libvirt connection (default $LIBVIRT_DEFAULT_URI, then qemu:///system)
`

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "nitro:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("see nitro -h")

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("nitro", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage) }
	uri := fs.String("c", "", "libvirt connection URI")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	switch fs.Arg(0) {
	case "domains":
		return listDomains(*uri, stdout)
	case "":
		fs.Usage()
		return errUsage
	default:
		return fmt.Errorf("unknown command %q (%w)", fs.Arg(0), errUsage)
	}
}

func listDomains(uri string, stdout io.Writer) error {
	conn, err := domain.Open(uri)
	if err != nil {
		return err
	}
	defer conn.Close()
	infos, err := conn.List()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tVCPUS\tMEMORY")
	for _, d := range infos {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d MiB\n", d.Name, d.State, d.VCPUs, d.MemoryKiB/1024)
	}
	return tw.Flush()
}
