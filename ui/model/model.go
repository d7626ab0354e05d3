package model

import (
	"context"

	"nitro/core/backend"
)

// Hypervisor is the libvirt side: the domain list and its run-state controls.
// Every method may block on I/O; the UI calls them only from tea.Cmds.
type Hypervisor interface {
	Domains(ctx context.Context) ([]Domain, error)
	Control(ctx context.Context, name string, a Action) error
	// Attach starts watching a domain's system calls. It fails with a plain
	// error when the domain cannot be watched (not running, not QEMU); the UI
	// shows the error's text.
	Attach(ctx context.Context, name string) (Session, error)
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
	Name      string
	State     string // as the user knows it: "running", "shut off", ...
	Paused    bool   // so one key can pause or resume
	VCPUs     uint
	MemoryKiB uint64
}

// Session is one attached domain. Methods other than the channel getters and
// Info may block; the UI calls them only from tea.Cmds. Close detaches and
// leaves the guest running with no break armed; it is safe to call twice.
type Session interface {
	Info() Info
	// Batches delivers decoded system calls, entries and exits in stream
	// order, a batch every few tens of milliseconds; closed when the session ends.
	Batches() <-chan []backend.Syscall
	// Held delivers a notification each time a break hits; the call's vCPU
	// (and, as the session decides, the whole VM) stays stopped until Continue.
	Held() <-chan Held
	Processes(ctx context.Context) ([]Process, error)
	Stats() Stats

	Break(ctx context.Context, b Breakpoint) error
	ClearBreak(ctx context.Context, b Breakpoint) error
	// Edit changes the held call; it returns the held call as it now stands.
	Edit(ctx context.Context, e Edit) (Held, error)
	Continue(ctx context.Context) error
	Pause(ctx context.Context) error
	Resume(ctx context.Context) error
	Close() error
}

// Info is what the status bar shows of a session and does not change.
type Info struct {
	Domain   string
	Listener string // e.g. "gdbstub", "nitro-ioctl"
	Kernel   string // guest kernel, e.g. "Linux 6.1.0-28-amd64"
}

// Stats are the session's running counters.
type Stats struct {
	Total   uint64 // events decoded since attach
	Dropped uint64 // events the UI's subscription lost because it was behind
	Paused  bool   // the whole VM is paused
}

// Process is a guest process from a task-list snapshot. Comm is raw guest
// bytes: the UI escapes it.
type Process struct {
	PID, PPID int
	Comm      string
}

// Breakpoint arms a hold on every call of a system call by name, or only on
// one process's calls when PID is not 0.
type Breakpoint struct {
	Name string
	PID  int
}

// Held is a system call stopped at a break: its vCPU waits until Continue.
type Held struct {
	Call backend.Syscall
	Regs []Register // empty when the session does not expose registers
}

// Register is one named register of the held vCPU.
type Register struct {
	Name  string // e.g. "rax"
	Value uint64
}

// Edit changes one thing of the held call: a register by name, an
// argument's value, or (Data non-nil) the bytes in guest memory the
// argument points to.
type Edit struct {
	Reg   string // when set, Value goes to this register and Arg is ignored
	Arg   int    // argument index, from 0
	Value uint64
	Data  []byte
}
