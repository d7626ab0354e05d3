package backend

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"nitro/core/kvm"
	"nitro/core/vmi"
)

// Backend is one guest operating system's back end as the frontend drives
// it. It is not safe for concurrent use: the frontend hands it one event at
// a time.
type Backend interface {
	// OS names the guest operating system, e.g. "linux".
	OS() string
	// Kernel is the guest kernel as a person reads it, e.g. "Linux
	// 6.1.0-28-amd64"; "" when unknown.
	Kernel() string
	// Stops are where a listener stops to see every system call.
	Stops() Stops
	// Handlers returns the addresses of the guest's handlers of the named
	// system call, for listeners that stop only at chosen calls; an unknown
	// name is an error that says so.
	Handlers(name string) ([]uint64, error)
	// Handle turns one stop into a system call. The vCPU is stopped: the
	// call's Arguments may be changed until the listener continues. The
	// call is the back end's again at the next Handle.
	Handle(ev *kvm.Event) (*Call, error)
	// Redecode decodes a held call again, after its arguments, the memory
	// they point to or (at an exit) its return value changed.
	Redecode(call *Call) error
	// Processes lists the guest's tasks from its memory.
	Processes() ([]Process, error)
	// WriteSymbols and WriteProfile write what the back end found of the
	// kernel, in the forms its Target files are read back from.
	WriteSymbols(w io.Writer) error
	WriteProfile(w io.Writer) error
}

// Stops are the addresses a listener stops at to see every system call.
type Stops struct {
	// Entry is where 64-bit calls enter the kernel (the syscall
	// instruction's target); at Exit they return to it.
	Entry, Exit uint64
	// CompatEntries and CompatExits are the same for the 32-bit
	// convention; none when the kernel lacks it.
	CompatEntries, CompatExits []uint64
}

// Target is a guest as a back end finds it: its physical memory, and what
// the user gave to describe its kernel.
type Target struct {
	Phys   vmi.PhysMem
	Mem    *vmi.Memory // paged reads over Phys
	RAMEnd uint64      // the highest guest-physical address with memory
	// Symbols and Profile are files the user gave instead of what the
	// guest's own memory says (see the --symbols and --profile flags).
	Symbols, Profile string
	// CacheDir keeps what was learnt of a kernel for the next attach.
	CacheDir string
	// CR3 and CR4 are a vCPU's, read as the back end opens (CR3 0 when
	// unknown): the running kernel is the one their page tables map,
	// whatever else lies in RAM.
	CR3, CR4 uint64
	// GSBase, KernelGSBase and IDTBase are the same vCPU's, 0 when
	// unknown: Windows keeps its per-processor block (KPCR) at one of the
	// GS bases.
	GSBase, KernelGSBase, IDTBase uint64
}

// Opener makes a back end for t, or fails with ErrOtherOS when t runs
// another operating system.
type Opener func(t Target) (Backend, error)

// ErrOtherOS is an Opener's answer for a guest it does not know.
var ErrOtherOS = errors.New("the guest runs another operating system")

// ErrForeignCall is returned for a Call another back end made: its
// Arguments are not this one's.
var ErrForeignCall = errors.New("not a call of this back end")

var (
	regMu   sync.Mutex
	openers []registered
)

type registered struct {
	os   string
	open Opener
}

// Register makes a back end available to Open; each OS's package registers
// itself from init.
func Register(os string, open Opener) {
	regMu.Lock()
	defer regMu.Unlock()
	openers = append(openers, registered{os, open})
}

// RegisterFirst is Register for a back end that tells its guests from
// others with a few reads: Open asks it before those that may sweep guest
// RAM before they give up.
func RegisterFirst(os string, open Opener) {
	regMu.Lock()
	defer regMu.Unlock()
	openers = append([]registered{{os, open}}, openers...)
}

// Open finds the back end for what t runs, or the one named os when it is
// not "". A back end that recognises the guest but fails says why.
func Open(t Target, os string) (Backend, error) {
	regMu.Lock()
	regs := openers
	regMu.Unlock()
	var errs []error
	for _, r := range regs {
		if os != "" && r.os != os {
			continue
		}
		b, err := r.open(t)
		if err == nil {
			return b, nil
		}
		if !errors.Is(err, ErrOtherOS) || os != "" {
			return nil, fmt.Errorf("%s guest: %w", r.os, err)
		}
		errs = append(errs, fmt.Errorf("%s: %w", r.os, err))
	}
	if os != "" && len(errs) == 0 {
		return nil, fmt.Errorf("no back end for %q", os)
	}
	return nil, fmt.Errorf("no back end knows this guest: %w", errors.Join(errs...))
}
