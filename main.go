// Command nitro watches the system calls of a running libvirt/QEMU guest from
// outside the guest.
//
//	nitro [-c URI] [--domain NAME]    the terminal interface
//	nitro [-c URI] domains            list libvirt domains
//	nitro [-c URI] ps [--tree] [--json] DOMAIN   list a guest's processes from its memory
//	nitro [-c URI] trace [flags] DOMAIN  print the guest's system calls as JSON lines or strace text
//	nitro [-c URI] record [flags] DOMAIN record the guest's system calls and processes to a file
//	nitro replay [--speed N] [--at SEQ] FILE  the terminal interface on a recording: no VM, no root
//	nitro export --perfetto FILE      a recording as Trace Event JSON for Perfetto
//	nitro [-c URI] symbols|profile DOMAIN  print what nitro found of the kernel
//	nitro [-c URI] detach DOMAIN      free a domain a crashed nitro left stopped
//	nitro [-c URI] triage [flags] DOMAIN  rules over the guest's calls: findings as JSON
//	nitro [-c URI] activity files|network|exec [flags] DOMAIN  what the guest's processes did, as JSON
//	nitro serve [-c URI] [--listen ADDR] [flags]  the terminal interface over SSH
//
// main parses the command line and wires the frontend (package core), or a
// recording played (package replay), to the faces (package ui and package
// commands), which see only package api.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"nitro/api"
	"nitro/commands"
	"nitro/core"
	"nitro/remote"
	"nitro/replay"
)

const usage = `usage: nitro [-c URI] [--domain NAME] [--theme dark|light|none] [--history N]
       nitro [-c URI] COMMAND [ARGS]

Without a command nitro opens its terminal interface at the domain list, or
attached to --domain. Keys can be rebound in $XDG_CONFIG_HOME/nitro/keys.json.

Commands:
  domains    list libvirt domains with state, vCPUs and memory
  ps [--tree] [--json] [--hidden] DOMAIN
             list the guest's processes, read from its memory; DOMAIN may be
             dump:FILE, an ELF core of "virsh dump --memory-only", or
             dump:FILE?cr3=HEX&idt=HEX a raw image (so may symbols' and profile's);
             --hidden lists only the tasks the kernel's views disagree on (task
             list, pid table, run queues: a rootkit's hiding), exit status 2 if any
  trace [--syscalls a,b] [--pid N] [--comm NAME] [--count N] [--duration D]
        [--format json|text] [-o FILE] [--inject SET:error=ERRNO[:when=N+]] DOMAIN
             print the guest's system calls (see nitro trace -h); --summary prints
             strace -c's table, --from FILE reads a recording instead of a guest,
             --record FILE records the calls printed
  record [-o FILE] [--syscalls a,b] [--pid N] [--comm NAME] [--count N] [--duration D] DOMAIN
             record the guest's system calls and processes to FILE (see nitro record -h)
  replay [--speed N] [--at SEQ] FILE
             the terminal interface on a recording, with no VM, libvirt or root;
             --speed 1 is real time (default), N times faster, 0 as fast as possible;
             --at starts at a call
  export --perfetto FILE
             write a recording as Trace Event JSON (Perfetto, chrome://tracing):
             a track per thread, a slice per call
  symbols DOMAIN
             print the kernel's symbols found in guest memory (/proc/kallsyms form)
  profile DOMAIN
             print the kernel's structure offsets found in its BTF (JSON profile)
  detach DOMAIN
             remove nitro's breakpoints and resume a domain left behind
  triage [--duration D] [--rules FILE] [--severity S] [--from FILE] DOMAIN
             run the built-in rules (and FILE's) over the guest's calls; print the
             findings as JSON lines with their evidence calls; exit status 2 when
             one is at least S (default warning)
  activity files|network|exec [--duration D] [--from FILE] DOMAIN
             what the guest's processes did, as JSON lines: the paths each opened,
             created, renamed or unlinked; each socket with its addresses and bytes;
             the exec lineage, exited processes included
  serve [-c URI] [--listen ADDR] [--host-key FILE] [--authorized-keys FILE]
        [--controllers FILE] [--domain NAME]... [--audit FILE]
             the terminal interface over SSH, one attach per domain for every
             viewer; public keys only, controllers' actions audited

Options:
  -c URI          libvirt connection (default $LIBVIRT_DEFAULT_URI, then qemu:///system);
                  several -c list the hosts' domains together, each named HOST/NAME
                  where HOST is its -c URI
  --domain NAME   open the interface attached to NAME
  --theme NAME    dark (default), light or none; NO_COLOR selects none
  --history N     system calls the interface keeps (default 100000)
  --symbols FILE  kernel symbols from FILE (/proc/kallsyms of this boot, "nitro symbols"
                  output; System.map, vmlinux or vmlinuz of a kernel without KASLR)
  --profile FILE  structure offsets from FILE ("nitro profile" output) instead of BTF;
                  for Windows, a Volatility 3 ISF file (.json, .json.xz or .json.gz);
                  for a qemu+ssh:// URI both files' contents go to the far nitro
  --os NAME       the guest's OS back end (linux or windows) instead of the one that
                  recognises the guest
  --remote-nitro PATH
                  the nitro to run on the host of a qemu+ssh:// URI (default: nitro on
                  that host's PATH), which attach, trace, ps... go through
  --listener NAME how nitro stops the guest: gdbstub (default; QEMU's gdbstub, TCG or
                  KVM) or nitro (the Nitro KVM ioctls, on a host whose KVM has them)
  --breakpoints KIND
                  the gdbstub listener's breakpoints: auto (default: hardware where they
                  fit in the four debug registers, else software, saying so), hardware
                  (fails where they do not fit) or software; under KVM the guest can
                  read software ones in its kernel text, never hardware ones
`

func main() {
	core.RunGuardIfAsked()
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "nitro:", err)
		if errors.Is(err, commands.ErrFound) || errors.Is(err, commands.ErrHidden) {
			os.Exit(2) // triage's or ps --hidden's verdict, not a failure
		}
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("nitro", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage) }
	var uris stringList
	fs.Var(&uris, "c", "libvirt connection URI (repeated: several hosts)")
	dom := fs.String("domain", "", "open the interface attached to this domain")
	theme := fs.String("theme", "", "colour theme: dark, light or none (default dark; none with NO_COLOR)")
	history := fs.Int("history", 0, "system calls the interface keeps (default 100000)")
	farNitro := fs.String("remote-nitro", "nitro", "the nitro to run on the host of a qemu+ssh:// URI")
	h := &core.Hypervisor{}
	fs.StringVar(&h.Kernel.Symbols, "symbols", "", "kernel symbols from this file instead of guest memory")
	fs.StringVar(&h.Kernel.Profile, "profile", "", "structure offsets from this JSON profile instead of the guest's BTF")
	fs.StringVar(&h.Kernel.OS, "os", "", "the guest's OS back end (linux or windows) instead of the one that recognises it")
	fs.StringVar(&h.Listener, "listener", core.ListenerGDBStub, "how to stop the guest: "+strings.Join(core.Listeners, " or "))
	fs.Func("breakpoints", "the gdbstub listener's breakpoints: auto (default), hardware or software", func(s string) (err error) {
		h.Breakpoints, err = api.ParseBreakpointKind(s)
		return err
	})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return commands.ErrUsage
	}
	hv, err := hypervisor(h, uris, *farNitro)
	if err != nil {
		return err
	}
	if len(uris) > 1 && (fs.Arg(0) == "serve" || fs.Arg(0) == "agent") {
		return fmt.Errorf("%s takes one -c (%w)", fs.Arg(0), commands.ErrUsage)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	cmdArgs := fs.Args()[min(1, fs.NArg()):]
	switch fs.Arg(0) {
	case "domains":
		return commands.Domains(ctx, hv, stdout)
	case "ps":
		return commands.PS(ctx, hv, cmdArgs, stdout)
	case "symbols", "profile":
		return commands.Kernel(ctx, hv, fs.Arg(0), cmdArgs, stdout)
	case "triage":
		return commands.Triage(ctx, hv, cmdArgs, stdout)
	case "activity":
		return commands.Activity(ctx, hv, cmdArgs, stdout)
	case "trace":
		return commands.Trace(ctx, hv, cmdArgs, stdout)
	case "record":
		return commands.Record(ctx, hv, cmdArgs, os.Stderr)
	case "export":
		return commands.Export(ctx, cmdArgs, stdout, os.Stderr)
	case "replay":
		return runReplay(ctx, cmdArgs, tuiOptions{theme: *theme, history: *history})
	case "serve":
		return runServe(ctx, h, cmdArgs, tuiOptions{theme: *theme, history: *history}, stdout)
	case "agent": // nitro's own, run over ssh by a nitro given a qemu+ssh URI
		return remote.Serve(ctx, agentHypervisor{h}, os.Stdin, stdout)
	case "detach":
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		return commands.Detach(ctx, hv, cmdArgs)
	case "":
		return runTUI(ctx, hv, tuiOptions{domain: *dom, theme: *theme, history: *history})
	default:
		return fmt.Errorf("unknown command %q (%w)", fs.Arg(0), commands.ErrUsage)
	}
}

// runReplay opens the terminal interface attached to a recording's domain,
// played by package replay instead of core: no libvirt, no root.
func runReplay(ctx context.Context, args []string, o tuiOptions) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	speed := fs.Float64("speed", 1, "playback speed: 1 real time, N times faster, 0 as fast as possible")
	at := fs.Uint64("at", 0, "start the playback at the call of this seq")
	if err := fs.Parse(args); err != nil {
		return commands.ErrUsage
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("replay needs one FILE (%w)", commands.ErrUsage)
	}
	h, err := replay.Open(fs.Arg(0), replay.Options{Speed: *speed, Start: *at, Linger: true})
	if err != nil {
		return err
	}
	if h.Damage != nil {
		fmt.Fprintf(os.Stderr, "nitro: %s: %v\n", fs.Arg(0), h.Damage)
	}
	o.domain = h.Domain()
	return runTUI(ctx, h, o)
}
