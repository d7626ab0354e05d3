package api

import (
	"context"
	"errors"
	"io"
)

// ErrNotRunning: the domain is not running, so there is nothing to attach to.
var ErrNotRunning = errors.New("domain is not running")

// Hypervisor is a connection to the host's domains: their list, run
// control, and the way into a guest. Every method may block on I/O.
type Hypervisor interface {
	Domains(ctx context.Context) ([]Domain, error)
	Control(ctx context.Context, name string, a Action) error
	// Attach starts watching a domain's system calls; no event flows until
	// the session's Run. It fails with a plain error when the domain cannot
	// be watched (not running, not QEMU, attached elsewhere).
	Attach(ctx context.Context, name string, o AttachOptions) (Session, error)
	// Inspect reads a running guest's kernel and processes without
	// stopping it.
	Inspect(ctx context.Context, name string) (Guest, error)
	// Detach frees a domain a nitro may have left behind: no breakpoint,
	// the VM running (unless it was paused by someone else).
	Detach(ctx context.Context, name string) error
}

// AttachOptions choose what a session traces.
type AttachOptions struct {
	// Syscalls, if set, are the only system calls the guest stops for
	// (names as strace prints them, of either ABI); the rest run at full speed.
	Syscalls []string
	// PID and Comms, when set, say that the face keeps only the calls of
	// that process or thread, and of processes of those names (trace's
	// --pid and --comm). A session may deliver only those (a remote one
	// does, so that the rest never cross the link); the face filters as
	// before, since a local session delivers every call.
	PID   int
	Comms []string
}

// Guest is a running guest read from outside: its kernel and processes.
type Guest interface {
	Name() string
	// Kernel is the guest kernel, e.g. "Linux 6.1.0-28-amd64"; "" when unknown.
	Kernel() string
	// Processes lists the guest's processes and threads from its memory.
	Processes(ctx context.Context) ([]Process, error)
	// WriteSymbols writes the kernel's symbols in /proc/kallsyms's form.
	WriteSymbols(w io.Writer) error
	// WriteProfile writes the kernel's structure layout as a JSON profile.
	WriteProfile(w io.Writer) error
	Close() error
}

// Action is a run-state change of a domain.
type Action int

const (
	Start Action = iota
	Shutdown
	Suspend
	Resume
)

func (a Action) String() string {
	switch a {
	case Start:
		return "start"
	case Shutdown:
		return "shut down"
	case Suspend:
		return "pause"
	case Resume:
		return "resume"
	}
	return "action?"
}

// Domain is one row of the domain list.
type Domain struct {
	// Host is the connection the domain is on when a hypervisor joins
	// several (nitro -c A -c B); "" for a single host, and left out of
	// JSON so that a far nitro's agent protocol stays as it was.
	Host      string `json:",omitempty"`
	Name      string
	State     string // as the user knows it: "running", "shut off", ...
	Paused    bool   // so one key can pause or resume
	VCPUs     uint
	MemoryKiB uint64
}

// Address is what names d to the hypervisor that listed it: its name, or
// HOST/NAME when it comes from one of several hosts, since names may clash
// across hosts (libvirt allows no "/" in a name, so the last one splits).
func (d Domain) Address() string {
	if d.Host == "" {
		return d.Name
	}
	return d.Host + "/" + d.Name
}

// HostError is a host that did not answer the domain list, and why.
type HostError struct {
	Host string
	Err  error
}

// Hosts is a Hypervisor over several hosts; faces find it by type
// assertion. Its Domains gives the hosts that answered only, so a face
// that shows hosts asks HostDomains for the ones that did not as well.
type Hosts interface {
	HostDomains(ctx context.Context) ([]Domain, []HostError)
}
