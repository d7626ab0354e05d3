// Command nitro watches the system calls of a running libvirt/QEMU guest from
// outside the guest.
//
//	nitro [-c URI] [--domain NAME]    the terminal interface
//	nitro [-c URI] domains            list libvirt domains
//	nitro [-c URI] ps [--tree] [--json] DOMAIN   list a guest's processes from its memory
//	nitro [-c URI] trace [flags] DOMAIN  print the guest's system calls as JSON lines or strace text
//	nitro [-c URI] symbols|profile DOMAIN  print what nitro found of the kernel
//	nitro [-c URI] detach DOMAIN      free a domain a crashed nitro left stopped
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"nitro/core"

	"nitro/core/kvm/domain"
)

const usage = `usage: nitro [-c URI] [--domain NAME] [--theme dark|light|none] [--history N]
       nitro [-c URI] COMMAND [ARGS]

Without a command nitro opens its terminal interface at the domain list, or
attached to --domain. Keys can be rebound in $XDG_CONFIG_HOME/nitro/keys.json.

Commands:
  domains    list libvirt domains with state, vCPUs and memory
  ps [--tree] [--json] DOMAIN
             list the guest's processes, read from its memory
  trace [--syscalls a,b] [--pid N] [--comm NAME] [--count N] [--duration D]
        [--format json|text] [-o FILE] DOMAIN
             print the guest's system calls (see nitro trace -h)
  symbols DOMAIN
             print the kernel's symbols found in guest memory (/proc/kallsyms form)
  profile DOMAIN
             print the kernel's structure offsets found in its BTF (JSON profile)
  detach DOMAIN
             remove nitro's breakpoints and resume a domain left behind

Options:
  -c URI          libvirt connection (default $LIBVIRT_DEFAULT_URI, then qemu:///system)
  --domain NAME   open the interface attached to NAME
  --theme NAME    dark (default), light or none; NO_COLOR selects none
  --history N     system calls the interface keeps (default 100000)
  --symbols FILE  kernel symbols from FILE (/proc/kallsyms of this boot, "nitro symbols"
                  output; System.map, vmlinux or vmlinuz of a kernel without KASLR)
  --profile FILE  structure offsets from FILE ("nitro profile" output) instead of BTF
`

func main() {
	core.RunGuardIfAsked()
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
	dom := fs.String("domain", "", "open the interface attached to this domain")
	theme := fs.String("theme", "", "colour theme: dark, light or none (default dark; none with NO_COLOR)")
	history := fs.Int("history", 0, "system calls the interface keeps (default 100000)")
	var k core.Kernel
	fs.StringVar(&k.Symbols, "symbols", "", "kernel symbols from this file instead of guest memory")
	fs.StringVar(&k.Profile, "profile", "", "structure offsets from this JSON profile instead of the guest's BTF")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	switch fs.Arg(0) {
	case "domains":
		return listDomains(*uri, stdout)
	case "ps":
		return psCommand(*uri, k, fs.Args()[1:], stdout)
	case "symbols", "profile":
		return kernelCommand(*uri, k, fs.Arg(0), fs.Args()[1:], stdout)
	case "trace":
		return traceCommand(*uri, k, fs.Args()[1:], stdout)
	case "detach":
		if fs.NArg() != 2 {
			return fmt.Errorf("detach needs one DOMAIN (%w)", errUsage)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return core.Detach(ctx, *uri, fs.Arg(1))
	case "":
		return runTUI(tuiOptions{uri: *uri, kernel: k, domain: *dom, theme: *theme, history: *history})
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
