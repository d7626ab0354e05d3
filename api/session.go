package api

import (
	"context"
	"errors"
)

// Sentinel errors of sessions, for errors.Is.
var (
	// ErrNotHeld: an edit or continue while no call is held.
	ErrNotHeld = errors.New("no system call is held")
	// ErrAttached: another nitro is attached to the domain.
	ErrAttached = errors.New("another nitro is attached to this domain")
	// ErrNotSupported: the host, the VM or the listener lacks what was asked.
	ErrNotSupported = errors.New("not supported by this host or VM")
)

// Session is one attached domain. Info, Held, Stats and Subscribe do no
// I/O; the other methods may block, so a UI calls them off its event loop.
// Close detaches and leaves the guest running with no break armed; it is
// safe to call twice.
type Session interface {
	Info() Info
	// Subscribe delivers the system calls from now on, entries and exits in
	// stream order, in batches a few tens of milliseconds apart. A lossy
	// subscription keeps at most limit calls between batches and drops
	// (and counts) the rest; a lossless one makes the guest wait for it.
	Subscribe(limit int, lossy bool) Subscription
	// Run handles the guest's events until ctx ends, the session is
	// closed (both return nil) or the guest cannot be followed any more.
	// Call it once, after the first Subscribe.
	Run(ctx context.Context) error
	// Held delivers each call that a break holds; its vCPU (and, as the
	// session decides, the whole VM) stays stopped until Continue. When
	// nobody took a hold before the next, the newer replaces it.
	Held() <-chan Held
	Processes(ctx context.Context) ([]Process, error)
	Stats() Stats

	Break(ctx context.Context, b Breakpoint) error
	ClearBreak(ctx context.Context, b Breakpoint) error
	// Edit changes the held call; it returns the held call as it now stands.
	Edit(ctx context.Context, e Edit) (Held, error)
	Continue(ctx context.Context) error
	// Pause stops the whole guest until Resume; a held call stays held.
	Pause(ctx context.Context) error
	Resume(ctx context.Context) error
	Close() error
}

// Subscription is one reader's stream of a session's system calls.
type Subscription interface {
	// C delivers the batches; it is closed when the session ends.
	C() <-chan []Syscall
	// Dropped counts the calls a lossy subscription had no room for.
	Dropped() uint64
}

// Info is what a status bar shows of a session; it does not change.
type Info struct {
	Domain   string
	Listener string // "gdbstub" or "nitro"
	OS       string // the back end: "linux"
	Kernel   string // e.g. "Linux 6.1.0-28-amd64"
}

// Stats are a session's running counters.
type Stats struct {
	Events       uint64 // system calls handed to subscribers since attach
	DecodeErrors uint64 // events the back end could not read
	HookErrors   uint64
	Dropped      uint64 // calls lossy subscriptions had no room for, all of them
	// ResumedOutside counts held calls that ran unchanged because the VM
	// was resumed outside nitro (virsh resume).
	ResumedOutside uint64
	// Paused says the guest is stopped for the user: a held call, a Pause,
	// or a pause made outside nitro, left in place until resumed there.
	Paused bool
}

// Breakpoint holds every call of a system call, by name, at its entry; or
// only one process's calls when PID is not 0.
type Breakpoint struct {
	Name string
	PID  int
}

// Held is a system call stopped at a break: its vCPU waits until Continue.
type Held struct {
	Call Syscall
	Regs []Register // the vCPU's general registers at the stop
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
