package api

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors of sessions, for errors.Is.
var (
	// ErrNotHeld: an edit or continue while no call is held.
	ErrNotHeld = errors.New("no system call is held")
	// ErrAttached: another nitro is attached to the domain.
	ErrAttached = errors.New("another nitro is attached to this domain")
	// ErrNotSupported: the host, the VM or the listener lacks what was asked.
	ErrNotSupported = errors.New("not supported by this host or VM")
	// ErrNotArmed: clearing an injection that is not armed.
	ErrNotArmed = errors.New("no such injection is armed")
	// ErrReadOnly: a change asked by someone who may only watch (a viewer
	// of a session shared by nitro serve).
	ErrReadOnly = errors.New("read-only session")
	// ErrLost: the connection to the nitro on the guest's host dropped (a
	// remote session's Run ends with it). That nitro detached as it went:
	// the guest runs on, and attaching again starts a new session.
	ErrLost = errors.New("lost the connection to the remote nitro")
)

// Session is one attached domain. Info, Held, Stats and Subscribe do no
// I/O; the other methods may block, so a UI calls them off its event loop.
// Close detaches and leaves the guest running with no break armed; it is
// safe to call twice.
type Session interface {
	Info() Info
	// Subscribe delivers the system calls from now on, entries and exits in
	// stream order, in batches a few tens of milliseconds apart, holding
	// at most limit calls between batches. When the reader falls behind,
	// the session waits for it at most wait (and the guest with it), then
	// drops and counts calls until the reader takes a batch again: Lossy
	// never waits, Lossless waits as long as it takes.
	Subscribe(limit int, wait time.Duration) Subscription
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
	// Inject arms a fault injection (see Injection); one with the same
	// text as an armed one replaces it, counts restarted. Where a call
	// matches several, the last armed decides, as strace's last -e inject
	// does. It fails, saying why, on a name or errno the guest does not
	// know, or with ErrNotSupported where the session stops too late to
	// skip a call (--syscalls under the gdbstub listener stops at the
	// call's handler, after the kernel chose it). Stats lists the armed
	// injections.
	Inject(ctx context.Context, i Injection) error
	// ClearInjection disarms the armed injection whose text (String) is
	// i's; ErrNotArmed when there is none.
	ClearInjection(ctx context.Context, i Injection) error
	// Edit changes the held call; it returns the held call as it now stands.
	Edit(ctx context.Context, e Edit) (Held, error)
	// Continue lets the held call run with its edits. It fails, and the
	// call runs unchanged, when the edited registers cannot be written.
	Continue(ctx context.Context) error
	// Pause stops the whole guest until Resume; a held call stays held.
	Pause(ctx context.Context) error
	Resume(ctx context.Context) error
	Close() error
}

// Subscribe's waits for a reader that falls behind.
const (
	// Lossy never makes the guest wait: a screen shows what it can.
	Lossy time.Duration = 0
	// Lossless makes the guest wait for the reader as strace does; a
	// stopped reader stops the guest.
	Lossless time.Duration = -1
	// ReaderWait is how long a trace or a recording holds the guest for a
	// reader that stopped (a paged `nitro trace | less`) before dropping
	// calls: a hiccup costs nothing, a stall costs calls, not the guest.
	ReaderWait = 2 * time.Second
)

// Subscription is one reader's stream of a session's system calls.
type Subscription interface {
	// C delivers the batches; it is closed when the session ends.
	C() <-chan []Syscall
	// Dropped counts the calls the subscription had no room for.
	Dropped() uint64
}

// Info is what a status bar shows of a session; it does not change.
type Info struct {
	Domain   string
	Listener string // "gdbstub" or "nitro"
	OS       string // the back end: "linux"
	Kernel   string // e.g. "Linux 6.1.0-28-amd64"
	// Replay is the recording a replayed session plays; "" for a live
	// guest. A replay's calls are history: a break stops the playback, but
	// edits and injections are refused.
	Replay string
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
	// Injections are the armed fault injections, in the order armed.
	Injections []ArmedInjection
	// InjectErrors counts injections that could not be carried out: the
	// call's number or result could not be written.
	InjectErrors uint64
	// Breakpoints is the kind of breakpoints the guest is stopped with now,
	// BreakpointsHardware, BreakpointsSoftware or BreakpointsMixed; ""
	// where none is set (the nitro listener, a replay).
	Breakpoints BreakpointKind `json:",omitempty"`
	// BreakpointNote says why they are software breakpoints where
	// BreakpointsAuto asked for hardware ones; "" otherwise.
	BreakpointNote string `json:",omitempty"`
}

// BreakpointKind is the kind of the breakpoints that stop the guest at
// system calls (not a break on a call, which is a Breakpoint). Under KVM a
// software breakpoint is an int3 byte in the guest's kernel text, which
// code in the guest can read; a hardware one is an x86 debug register,
// which leaves guest memory untouched, and there are four. Under QEMU's
// TCG neither kind is in guest memory.
type BreakpointKind string

const (
	// BreakpointsAuto is hardware breakpoints while debug registers are
	// free and the hypervisor takes them, software ones beyond, saying so.
	BreakpointsAuto BreakpointKind = "auto"
	// BreakpointsHardware is debug registers only: more than four, or a
	// hypervisor that refuses them, is an error.
	BreakpointsHardware BreakpointKind = "hardware"
	// BreakpointsSoftware is software breakpoints, as many as needed.
	BreakpointsSoftware BreakpointKind = "software"
	// BreakpointsMixed, in Stats only, is hardware breakpoints for the
	// first stops (the 64-bit entry and exit) and software ones beyond.
	BreakpointsMixed BreakpointKind = "mixed"
)

// ErrBreakpointKind is a breakpoint kind nitro does not know.
var ErrBreakpointKind = errors.New("unknown breakpoint kind (want auto, hardware or software)")

// ParseBreakpointKind reads a BreakpointKind by its name.
func ParseBreakpointKind(s string) (BreakpointKind, error) {
	switch k := BreakpointKind(s); k {
	case BreakpointsAuto, BreakpointsHardware, BreakpointsSoftware:
		return k, nil
	}
	return "", fmt.Errorf("%w: %q", ErrBreakpointKind, s)
}

// Breakpoint holds every call of a system call, by name, at its entry (at
// its exit with Exit, where its return value can be edited); or only one
// process's calls when PID is not 0.
type Breakpoint struct {
	Name string
	PID  int
	Exit bool
}

// Held is a system call stopped at a break: its vCPU waits until Continue.
type Held struct {
	Call Syscall
	Regs []Register // the vCPU's general registers at the stop
	// Uses says, per argument of Call, what the call does with the memory
	// the argument points to: what an edit of it may be.
	Uses []ArgUse
	// By names who holds the call when several people share the session
	// (nitro serve), so that every viewer sees whose it is; "" otherwise.
	By string
	// Done, when not nil, is closed once the call runs on, whoever let it
	// go: a screen that did not continue it itself stops showing it held.
	Done <-chan struct{}
}

// Register is one named register of the held vCPU.
type Register struct {
	Name  string // e.g. "rax"
	Value uint64
}

// Edit changes one thing of the held call: a register by name, the return
// value, an argument's value, or (Data non-nil) the bytes in guest memory
// the argument points to. Bytes never overwrite memory past what the
// argument's data holds: what does not fit there is refused, or, for a
// String or a Buffer growing with Len, placed in free memory of the
// process (below its stack's red zone) with the argument pointing to it.
// A refused edit changes nothing and its error says why.
type Edit struct {
	// Seq is the held call the edit is meant for (Held.Call.Seq): an edit
	// that arrives once another call is held is refused with ErrNotHeld
	// rather than changing that one. 0 edits whichever call is held.
	Seq   uint64
	Reg   string // when set, Value goes to this register and Arg is ignored
	Ret   bool   // when set, Value is the call's return value (at an exit only)
	Arg   int    // argument index, from 0
	Value uint64
	Data  []byte
	// String says Data is the text of an ArgString argument (a path, a
	// name): it is written with its terminating NUL.
	String bool
	// Len sets the length argument of an ArgBuffer (ArgUse.Len: write's
	// count) to len(Data) too. Without it Data must fit in the length the
	// call has, of which it replaces the first len(Data) bytes.
	Len bool
}
