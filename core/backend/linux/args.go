package linux

import (
	"errors"
	"fmt"

	"nitro/core/kvm"
	"nitro/core/vmi"
)

// ErrReadOnlyArgs is returned when changing the arguments of a call that
// has already run.
var ErrReadOnlyArgs = errors.New("arguments of a finished call cannot change")

// maxArgBytes bounds one ReadBytes of guest memory.
const maxArgBytes = 1 << 20

// userMem reads and writes the memory arguments point to, in the calling
// process's address space.
type userMem struct {
	user vmi.Space
	args interface{ Get(int) uint64 } // the map that embeds this one
}

func (u userMem) space() vmi.Space { return u.user }

func (u userMem) ReadBytes(i, n int) ([]byte, error) {
	if n < 0 || n > maxArgBytes {
		return nil, fmt.Errorf("reading %d bytes at argument %d: length out of range", n, i)
	}
	b := make([]byte, n)
	if err := u.user.Read(b, u.args.Get(i)); err != nil {
		return nil, fmt.Errorf("reading argument %d's memory: %w", i, err)
	}
	return b, nil
}

func (u userMem) WriteBytes(i int, b []byte) error {
	if err := u.user.Write(b, u.args.Get(i)); err != nil {
		return fmt.Errorf("writing argument %d's memory: %w", i, err)
	}
	return nil
}

// regArgs are the arguments of a call stopped at the entry point, still in
// the vCPU's registers: a change is written back before the vCPU runs on.
type regArgs struct {
	userMem
	regs *kvm.Regs
}

func newRegArgs(ev *kvm.Event, user vmi.Space) *regArgs {
	a := &regArgs{regs: &ev.Regs}
	a.userMem = userMem{user: user, args: a}
	return a
}

func (a *regArgs) reg(i int) *uint64 {
	switch i {
	case 0:
		return &a.regs.RDI
	case 1:
		return &a.regs.RSI
	case 2:
		return &a.regs.RDX
	case 3:
		return &a.regs.R10
	case 4:
		return &a.regs.R8
	case 5:
		return &a.regs.R9
	}
	return nil
}

func (a *regArgs) Len() int { return 6 }

func (a *regArgs) Get(i int) uint64 {
	if r := a.reg(i); r != nil {
		return *r
	}
	return 0
}

func (a *regArgs) Set(i int, v uint64) error {
	r := a.reg(i)
	if r == nil {
		return fmt.Errorf("no argument %d", i)
	}
	*r = v
	return nil
}

// ptRegs are the user registers the kernel saved on the task's stack: the
// arguments of a call stopped in its handler or at its exit.
type ptRegs struct {
	userMem
	kern  vmi.Space
	addr  uint64
	words [ptWords]uint64
	exit  bool
}

func readPtRegs(kern, user vmi.Space, addr uint64, exit bool) (*ptRegs, error) {
	var raw [8 * ptWords]byte
	if err := kern.Read(raw[:], addr); err != nil {
		return nil, fmt.Errorf("reading pt_regs at %#x: %w", addr, err)
	}
	r := &ptRegs{kern: kern, addr: addr, exit: exit}
	for i := range r.words {
		r.words[i] = le64(raw[:], i)
	}
	r.userMem = userMem{user: user, args: r}
	return r, nil
}

func (r *ptRegs) Len() int { return 6 }

func (r *ptRegs) Get(i int) uint64 {
	if i < 0 || i >= len(ptArgs) {
		return 0
	}
	return r.words[ptArgs[i]]
}

func (r *ptRegs) Set(i int, v uint64) error {
	if r.exit {
		return ErrReadOnlyArgs
	}
	if i < 0 || i >= len(ptArgs) {
		return fmt.Errorf("no argument %d", i)
	}
	if err := r.kern.PutU64(r.addr+8*uint64(ptArgs[i]), v); err != nil {
		return fmt.Errorf("writing argument %d to pt_regs: %w", i, err)
	}
	r.words[ptArgs[i]] = v
	return nil
}

// savedArgs are the arguments remembered from a call's entry, for an exit
// that stops where they are no longer at hand.
type savedArgs struct {
	userMem
	vals [6]uint64
}

func newSavedArgs(vals [6]uint64, user vmi.Space) *savedArgs {
	a := &savedArgs{vals: vals}
	a.userMem = userMem{user: user, args: a}
	return a
}

func (a *savedArgs) Len() int { return 6 }

func (a *savedArgs) Get(i int) uint64 {
	if i < 0 || i >= len(a.vals) {
		return 0
	}
	return a.vals[i]
}

func (a *savedArgs) Set(int, uint64) error { return ErrReadOnlyArgs }
