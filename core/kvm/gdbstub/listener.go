package gdbstub

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"nitro/core/kvm"
	"nitro/core/kvm/rsp"
)

// Config says where to stop. The caller computes the addresses (from the
// guest's kernel symbols): this package knows no guest OS.
type Config struct {
	// StartPaused says someone else paused the VM before the listener
	// attached: it stays paused until they resume it, and Next waits.
	StartPaused bool
	// Peer, if not 0, is the QEMU process that must serve the socket Dial
	// connects to (see rsp.Options.Peer).
	Peer int
	// SyscallEntry is where system calls enter the kernel (Linux:
	// entry_SYSCALL_64, the LSTAR target, where swapgs has not run yet).
	// Required unless Handlers is set.
	SyscallEntry uint64
	// SyscallExit is an instruction on the return path where the return
	// value is available; 0 means no exit events. Ignored with Handlers.
	SyscallExit uint64
	// CompatEntries and CompatExits are the entry and exit points of the
	// 32-bit convention (Linux: the C functions its entry code calls, and
	// the instructions after those calls); their events carry
	// kvm.Sysenter. Ignored with Handlers.
	CompatEntries, CompatExits []uint64
	// Handlers, if set, are per-system-call handler addresses (Linux:
	// __x64_sys_openat, ...) to stop at instead of SyscallEntry, so other
	// system calls run at full speed. Exits are then caught at each
	// handler's return address, read from [rsp] at the handler's entry,
	// and matched to their task by the stack pointer.
	Handlers []uint64
	// Breakpoints chooses their kind: software (Z0, the zero value),
	// hardware (Z1), or hardware while debug registers are free.
	Breakpoints BreakpointMode
	// AlwaysStep steps over breakpoints with single steps only, never by
	// emulating the instruction (slower; for measurements).
	AlwaysStep bool
	// Timeout bounds a single step and stopping the VM in Close.
	// Default 5s.
	Timeout time.Duration
}

// BreakpointMode chooses the kind of the listener's breakpoints. Under KVM a
// software breakpoint is an int3 byte written into the guest's kernel
// text, which code in the guest can read; a hardware one is a debug
// register, which leaves guest memory untouched, and x86 has four. Under
// TCG, QEMU keeps both kinds outside guest memory, alike.
type BreakpointMode uint8

const (
	// SoftwareBreakpoints sets every breakpoint with Z0.
	SoftwareBreakpoints BreakpointMode = iota
	// HardwareBreakpoints sets every breakpoint with Z1, and fails with
	// ErrHardwareBreakpoints where more than DebugRegisters are needed.
	HardwareBreakpoints
	// AutoBreakpoints sets Z1 breakpoints while debug registers are free
	// and the stub takes them, Z0 ones beyond, saying why (Breakpoints):
	// the first breakpoints asked for (the 64-bit entry and exit) are the
	// ones the guest cannot see.
	AutoBreakpoints
)

// DebugRegisters is how many hardware breakpoints x86 holds (DR0-DR3).
// QEMU's TCG takes any number, KVM four: the listener counts for itself.
const DebugRegisters = 4

// Sentinel errors of the listener (besides kvm.ErrDetached,
// kvm.ErrNotSupported and kvm.ErrResumedOutside).
var (
	// ErrHardwareBreakpoints means HardwareBreakpoints needs more
	// breakpoints than there are debug registers, or the stub refused one.
	ErrHardwareBreakpoints = errors.New("gdbstub: cannot set hardware breakpoints")
	// ErrNotContinued means Next was called before Continue for the
	// previous event.
	ErrNotContinued = errors.New("gdbstub: previous event not continued")
	// ErrStaleEvent means SetRegs or Continue got an event that is not the
	// current one.
	ErrStaleEvent = errors.New("gdbstub: event is not the current stop")
)

// role is what a breakpoint is for.
type role uint8

const (
	roleEntry role = iota + 1
	roleExit
	roleCompatEntry
	roleCompatExit
	roleHandler
	roleReturn
)

// maxReturns bounds the handler returns awaited at once; the oldest are
// forgotten first (a task that never returns, e.g. from exit, leaves one).
const maxReturns = 4096

type returnKey struct{ addr, sp uint64 }

// stop is the state of the current stop.
type stop struct {
	ev      *kvm.Event // nil when the stop is no event
	thread  rsp.Thread
	raw     []byte // `g` payload, kept up to date by SetRegs
	trapped bool   // stopped by a breakpoint (SIGTRAP), not an interrupt
	foreign bool   // stopped by a breakpoint this listener did not set
}

// Stats counts what the listener did, for measurements.
type Stats struct {
	Events    int // events returned by Next
	Stops     int // stops seen, including those that were no event
	Steps     int // step-overs by single step
	Emulated  int // step-overs by emulating the instruction
	Forgotten int // awaited handler returns dropped (over maxReturns)
	// Foreign counts stops at breakpoints this listener did not set (a
	// dead client's, which QEMU keeps): each was removed.
	Foreign int
	// ExternalPauses counts the times someone else paused the VM (QEMU's
	// monitor, `virsh suspend`): the listener leaves it paused.
	ExternalPauses int
	// ResumedOutside counts events lost to a resume from outside.
	ResumedOutside int
}

// Listener is a kvm.Listener over a GDB stub.
type Listener struct {
	c      *rsp.Client
	cfg    Config
	regs   *regMap
	ctx    context.Context // ended by Close, to wake a blocked Next
	cancel context.CancelFunc
	// hard and soft count the breakpoints set of each kind, and refused
	// says why the stub takes no hardware ones: Breakpoints reads them
	// without mu, which Next holds.
	hard, soft atomic.Int32
	refused    atomic.Pointer[string]

	mu      sync.Mutex
	vcpus   map[rsp.Thread]int
	bps     map[uint64]role
	kinds   map[uint64]rsp.BreakpointKind // of each breakpoint in bps
	noHard  bool                          // the stub refused a hardware one
	plans   map[uint64]cachedPlan
	returns map[returnKey]bool
	waiting map[uint64]int // awaited returns by address
	order   []returnKey    // returns in the order they were added
	cur     *stop
	stray   *rsp.Stop // a stop that came while an event held the VM
	closed  bool
	stats   Stats
	// foreignAt and foreignRepeats track stops again and again at one
	// address with no breakpoint left to remove there.
	foreignAt      uint64
	foreignRepeats int

	pause  atomic.Bool   // Pause asked for the VM to stay stopped
	paused atomic.Bool   // the VM is stopped by Pause or by someone else
	resume chan struct{} // Resume wakes a Next waiting out a Pause
}

var _ kvm.Listener = (*Listener)(nil)

// Dial connects to QEMU's gdb stub on a unix socket and starts a Listener.
func Dial(ctx context.Context, path string, cfg Config) (*Listener, error) {
	c, err := rsp.Dial(ctx, path, &rsp.Options{Peer: cfg.Peer})
	if err != nil {
		return nil, err
	}
	return New(c, cfg)
}

// New starts a Listener on a connected client and sets its breakpoints.
// The Listener owns c from then on: Close detaches and closes it, and so
// does a failing New.
func New(c *rsp.Client, cfg Config) (*Listener, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	l := &Listener{
		c: c, cfg: cfg, bps: make(map[uint64]role), kinds: make(map[uint64]rsp.BreakpointKind),
		plans: make(map[uint64]cachedPlan), returns: make(map[returnKey]bool),
		waiting: make(map[uint64]int), resume: make(chan struct{}, 1),
	}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	if err := l.setup(); err != nil {
		return nil, errors.Join(fmt.Errorf("starting gdbstub listener: %w", err), l.Close())
	}
	if cfg.StartPaused {
		// Its next stop comes when they resume it and it reaches a
		// breakpoint, as after a pause while attached.
		l.stats.ExternalPauses++
		l.paused.Store(true)
		l.c.ExpectStop()
	}
	return l, nil
}

func (l *Listener) setup() error {
	if l.cfg.SyscallEntry == 0 && len(l.cfg.Handlers) == 0 {
		return errors.New("config needs SyscallEntry or Handlers")
	}
	var err error
	if l.regs, err = newRegMap(l.c.Layout()); err != nil {
		return err
	}
	if err := l.listThreads(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	bps := l.wanted()
	if l.cfg.Breakpoints == HardwareBreakpoints && len(bps) > DebugRegisters {
		return tooMany(len(bps))
	}
	for _, bp := range bps {
		if err := l.insert(bp.addr, bp.role); err != nil {
			return err
		}
	}
	return nil
}

// placed is a breakpoint to set: where, and what for.
type placed struct {
	addr uint64
	role role
}

// wanted lists the breakpoints the configuration asks for, each address
// once (the first role given it wins).
func (l *Listener) wanted() []placed {
	var bps []placed
	add := func(r role, addrs ...uint64) {
		for _, a := range addrs {
			if !slices.ContainsFunc(bps, func(p placed) bool { return p.addr == a }) {
				bps = append(bps, placed{a, r})
			}
		}
	}
	if len(l.cfg.Handlers) > 0 {
		add(roleHandler, l.cfg.Handlers...)
		return bps
	}
	add(roleEntry, l.cfg.SyscallEntry)
	if l.cfg.SyscallExit != 0 {
		add(roleExit, l.cfg.SyscallExit)
	}
	add(roleCompatEntry, l.cfg.CompatEntries...)
	add(roleCompatExit, l.cfg.CompatExits...)
	return bps
}

// Breakpoints counts the breakpoints set of each kind and, when
// AutoBreakpoints set software ones, says why. It may be called from any
// goroutine.
func (l *Listener) Breakpoints() (hardware, software int, note string) {
	hardware, software = int(l.hard.Load()), int(l.soft.Load())
	if software > 0 && l.cfg.Breakpoints == AutoBreakpoints {
		note = fmt.Sprintf("software breakpoints beyond x86's %d debug registers", DebugRegisters)
		if why := l.refused.Load(); why != nil {
			note = "software breakpoints: " + *why
		}
	}
	return hardware, software, note
}

func tooMany(n int) error {
	return fmt.Errorf("%w: %d breakpoints needed, x86 has %d debug registers", ErrHardwareBreakpoints, n, DebugRegisters)
}

// kindFor picks the kind of the next breakpoint: a debug register while
// one is free and the stub takes them, else software (an error for
// HardwareBreakpoints).
func (l *Listener) kindFor() (rsp.BreakpointKind, error) {
	switch {
	case l.cfg.Breakpoints == SoftwareBreakpoints || l.noHard:
		return rsp.Software, nil
	case l.hard.Load() < DebugRegisters:
		return rsp.Hardware, nil
	case l.cfg.Breakpoints == HardwareBreakpoints:
		return rsp.Software, tooMany(len(l.kinds) + 1)
	}
	return rsp.Software, nil
}

// placed records a breakpoint set at addr, of kind.
func (l *Listener) placed(addr uint64, kind rsp.BreakpointKind) {
	l.unplaced(addr)
	l.kinds[addr] = kind
	l.count(kind).Add(1)
}

// unplaced forgets the breakpoint at addr and returns its kind.
func (l *Listener) unplaced(addr uint64) rsp.BreakpointKind {
	kind, ok := l.kinds[addr]
	if ok {
		delete(l.kinds, addr)
		l.count(kind).Add(-1)
	}
	return kind
}

func (l *Listener) count(kind rsp.BreakpointKind) *atomic.Int32 {
	if kind == rsp.Hardware {
		return &l.hard
	}
	return &l.soft
}

// listThreads maps the stub's threads to vCPU numbers: their order in the
// thread list (QEMU: thread N is vCPU N-1).
func (l *Listener) listThreads() error {
	threads, err := l.c.Threads()
	if err != nil {
		return err
	}
	l.vcpus = make(map[rsp.Thread]int, len(threads))
	for i, t := range threads {
		l.vcpus[t] = i
	}
	return nil
}

// insert sets a breakpoint at addr, first removing any a dead client left
// there: QEMU would count both, and a step-over that removes one would
// not move the vCPU.
func (l *Listener) insert(addr uint64, r role) error {
	if _, err := l.clear(addr); err != nil {
		return err
	}
	kind, err := l.kindFor()
	if err != nil {
		return err
	}
	err = l.c.InsertBreakpoint(kind, addr)
	if kind == rsp.Hardware && (errors.Is(err, rsp.ErrStub) || errors.Is(err, rsp.ErrUnsupported)) {
		// A stub without Z1 answers empty; KVM out of debug registers,
		// an error.
		if l.cfg.Breakpoints != AutoBreakpoints {
			return fmt.Errorf("%w: %w", ErrHardwareBreakpoints, err)
		}
		why := fmt.Sprintf("the gdbstub refused a hardware one (%v)", err)
		l.refused.Store(&why)
		l.noHard, kind = true, rsp.Software
		err = l.c.InsertBreakpoint(kind, addr)
	}
	if err != nil {
		return err
	}
	l.bps[addr] = r
	l.placed(addr, kind)
	return nil
}

func (l *Listener) remove(addr uint64) error {
	delete(l.bps, addr)
	delete(l.plans, addr)
	return l.c.RemoveBreakpoint(l.unplaced(addr), addr)
}

// maxLeftover bounds the removals of each kind at one address: QEMU
// counts an address inserted twice as two breakpoints.
const maxLeftover = 16

// clear removes breakpoints of both kinds at addr that this listener did
// not set: QEMU keeps a client's breakpoints after it dies, and has no
// packet to list them. It reports how many it removed; QEMU refuses to
// remove one that is not there, which ends the search.
func (l *Listener) clear(addr uint64) (int, error) {
	n := 0
	for _, k := range []rsp.BreakpointKind{rsp.Software, rsp.Hardware} {
		for range maxLeftover {
			err := l.c.RemoveBreakpoint(k, addr)
			if errors.Is(err, rsp.ErrStub) || errors.Is(err, rsp.ErrUnsupported) {
				break
			}
			if err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// Stats returns counters of the listener's work so far.
func (l *Listener) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

// Next resumes the VM if needed and waits for the next event. If ctx ends
// first, Next returns its error and the VM keeps running; a later Next
// picks up where this one stopped waiting.
func (l *Listener) Next(ctx context.Context) (*kvm.Event, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, kvm.ErrDetached
	}
	if l.cur != nil {
		return nil, ErrNotContinued
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(l.ctx, cancel)()
	for {
		var s rsp.Stop
		var err error
		if l.stray != nil { // already stopped again, elsewhere
			s, l.stray = *l.stray, nil
		} else {
			if !l.c.Running() {
				if err := l.waitPause(ctx); err != nil {
					return nil, err
				}
				if err := l.c.Continue(); err != nil {
					return nil, fmt.Errorf("resuming the VM: %w", err)
				}
			}
			s, err = l.c.Wait(ctx)
		}
		switch {
		case l.ctx.Err() != nil:
			return nil, kvm.ErrDetached
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.Is(err, rsp.ErrClosed):
			return nil, fmt.Errorf("%w: %w", kvm.ErrDetached, err)
		case err != nil:
			return nil, fmt.Errorf("waiting for a stop: %w", err)
		case s.Gone():
			return nil, fmt.Errorf("%w: the VM exited", kvm.ErrDetached)
		}
		l.paused.Store(false) // a stop came: the VM ran (a wait cut short says nothing)
		st, err := l.inspect(s)
		if err != nil {
			return nil, err
		}
		if st.ev != nil {
			l.cur = st
			l.stats.Events++
			l.foreignRepeats = 0
			return st.ev, nil
		}
		if st.foreign {
			if err := l.dropForeign(st); err != nil {
				return nil, err
			}
			continue
		}
		if !st.trapped && s.Signal == rsp.SIGINT && !l.pause.Load() {
			// Paused by someone else: leave it paused. Its next stop
			// comes when they resume it and it reaches a breakpoint.
			l.stats.ExternalPauses++
			l.paused.Store(true)
			l.c.ExpectStop()
			continue
		}
		if err := l.stepOver(st); err != nil {
			return nil, err
		}
	}
}

// inspect reads the stopped vCPU's registers (QEMU selects the vCPU that
// stopped) and decides whether the stop is an event.
func (l *Listener) inspect(s rsp.Stop) (*stop, error) {
	now := time.Now()
	l.stats.Stops++
	raw, err := l.c.ReadRegisters()
	if err != nil {
		return nil, err
	}
	rip := l.regs.rip.Uint(raw)
	r, atBreakpoint := l.bps[rip]
	st := &stop{
		thread: s.Thread, raw: raw,
		trapped: atBreakpoint && s.Signal == rsp.SIGTRAP,
		foreign: !atBreakpoint && s.Signal == rsp.SIGTRAP,
	}
	if !st.trapped {
		// An interrupt, or a stop that raced with one: resuming hits the
		// breakpoint again if there is one.
		return st, nil
	}
	ev := &kvm.Event{Direction: kvm.Enter, Mechanism: kvm.Syscall, Time: now}
	if err := l.regs.decode(raw, ev); err != nil {
		return nil, err
	}
	switch r {
	case roleHandler:
		if err := l.awaitReturn(ev.Regs.RSP); err != nil {
			return nil, err
		}
	case roleExit:
		ev.Direction = kvm.Exit
	case roleCompatEntry:
		ev.Mechanism = kvm.Sysenter
	case roleCompatExit:
		ev.Direction, ev.Mechanism = kvm.Exit, kvm.Sysenter
	case roleReturn:
		key := returnKey{rip, ev.Regs.RSP}
		if !l.returns[key] {
			return st, nil // another task's return through the same place
		}
		l.unawait(key)
		ev.Direction = kvm.Exit
	}
	if ev.VCPU, err = l.vcpu(s.Thread); err != nil {
		return nil, err
	}
	st.ev = ev
	return st, nil
}

func (l *Listener) vcpu(t rsp.Thread) (int, error) {
	if n, ok := l.vcpus[t]; ok {
		return n, nil
	}
	if err := l.listThreads(); err != nil { // a vCPU was hot-plugged?
		return 0, err
	}
	if n, ok := l.vcpus[t]; ok {
		return n, nil
	}
	return 0, fmt.Errorf("%w: stop on unknown thread %v", rsp.ErrMalformed, t)
}

// awaitReturn arms a temporary breakpoint at the return address on the
// stack of a handler that just started, and notes the stack pointer the
// return will leave, which tells this task's return from others'.
func (l *Listener) awaitReturn(sp uint64) error {
	var b [8]byte
	if err := l.c.ReadVirt(b[:], sp); err != nil {
		return fmt.Errorf("reading a handler's return address: %w", err)
	}
	addr := binary.LittleEndian.Uint64(b[:])
	if _, ok := l.bps[addr]; !ok {
		if err := l.insert(addr, roleReturn); err != nil {
			return err
		}
	} else if l.bps[addr] != roleReturn {
		return nil // already a breakpoint of another kind: no exit event
	}
	key := returnKey{addr, sp + 8}
	if !l.returns[key] {
		l.returns[key] = true
		l.waiting[addr]++
		l.order = append(l.order, key)
	}
	return l.forgetOldReturns()
}

// unawait drops an awaited return.
func (l *Listener) unawait(key returnKey) {
	delete(l.returns, key)
	if l.waiting[key.addr]--; l.waiting[key.addr] <= 0 {
		delete(l.waiting, key.addr)
	}
}

// forgetOldReturns keeps the awaited returns within maxReturns, and the
// order list within twice that. A return address nobody waits at any
// more loses its breakpoint, which would otherwise stop every task that
// passes there for nothing.
func (l *Listener) forgetOldReturns() error {
	for len(l.returns) > maxReturns {
		key := l.order[0]
		l.order = l.order[1:]
		if !l.returns[key] {
			continue
		}
		l.unawait(key)
		l.stats.Forgotten++
		if !l.awaited(key.addr) && l.bps[key.addr] == roleReturn {
			if err := l.remove(key.addr); err != nil {
				return err
			}
		}
	}
	if len(l.order) > 2*maxReturns {
		live := l.order[:0]
		for _, k := range l.order {
			if l.returns[k] {
				live = append(live, k)
			}
		}
		l.order = live
	}
	return nil
}

// maxForeignRepeats bounds the stops again and again at one address where
// no breakpoint is left to remove: more than any count of vCPUs reporting
// a stop they had pending there.
const maxForeignRepeats = 256

// dropForeign removes the breakpoints at a stop this listener did not set,
// so the VM does not stop there forever. A stop with none left to remove
// is one a vCPU had pending at a breakpoint removed since: resuming goes
// on, unless it repeats without end.
func (l *Listener) dropForeign(st *stop) error {
	rip := l.regs.rip.Uint(st.raw)
	n, err := l.clear(rip)
	if err != nil {
		return err
	}
	if n > 0 {
		l.stats.Foreign++
		l.foreignRepeats = 0
		return nil
	}
	if rip != l.foreignAt {
		l.foreignAt, l.foreignRepeats = rip, 0
	}
	if l.foreignRepeats++; l.foreignRepeats > maxForeignRepeats {
		return fmt.Errorf("the VM stops at %#x again and again, where nitro set no breakpoint and finds none to remove", rip)
	}
	return nil
}

// SetRegs writes the general registers of ev that differ from the stopped
// vCPU's, one `P` each. SRegs are not written.
func (l *Listener) SetRegs(ev *kvm.Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.current(ev); err != nil {
		return err
	}
	held := l.regs.gpr[17].Uint(l.cur.raw)
	if err := checkRegs(&kvm.Regs{RFlags: held}, &ev.Regs); err != nil {
		return err
	}
	for i, p := range gprs(&ev.Regs) {
		r := l.regs.gpr[i]
		if r.Uint(l.cur.raw) == *p {
			continue
		}
		if err := l.c.WriteRegisterUint(r, *p); err != nil {
			return err
		}
		r.PutUint(l.cur.raw, *p)
	}
	return nil
}

// arithFlags are rflags' CF, PF, AF, ZF, SF and OF. Under TCG, QEMU keeps
// them in lazily computed condition codes that its gdb stub's rflags write
// does not reach (QEMU 7.2: a write read back a stop later is gone): the
// next conditional jump would go by the old flags. (A lab guest traced
// with `test` emulated at the 32-bit return path died of a double fault,
// most likely from a wrong turn there.) So the listener never writes them.
const arithFlags = 1<<0 | 1<<2 | 1<<4 | 1<<6 | 1<<7 | 1<<11

// CheckRegs says whether SetRegs can write the change from one set of
// registers to another: not a change of rflags' arithmetic flags.
func (l *Listener) CheckRegs(from, to *kvm.Regs) error { return checkRegs(from, to) }

func checkRegs(from, to *kvm.Regs) error {
	if (from.RFlags^to.RFlags)&arithFlags != 0 {
		return fmt.Errorf("%w: changing rflags' arithmetic flags (QEMU's gdb stub does not reach them under TCG)", kvm.ErrNotSupported)
	}
	return nil
}

func (l *Listener) current(ev *kvm.Event) error {
	if l.closed {
		return kvm.ErrDetached
	}
	if l.cur == nil || l.cur.ev != ev {
		return ErrStaleEvent
	}
	if s, ok := l.c.TakeStray(); ok {
		// Writing the held registers now would corrupt a vCPU that
		// has moved on.
		l.cur, l.stray = nil, &s
		l.stats.ResumedOutside++
		return kvm.ErrResumedOutside
	}
	return nil
}

// Continue steps the vCPU over its breakpoint and resumes the VM.
func (l *Listener) Continue(ev *kvm.Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.current(ev); err != nil {
		return err
	}
	st := l.cur
	l.cur = nil
	if err := l.stepOver(st); err != nil {
		return err
	}
	if l.pause.Load() {
		return nil // the next Next waits out the pause
	}
	if err := l.c.Continue(); err != nil {
		return fmt.Errorf("resuming the VM: %w", err)
	}
	return nil
}

// Pause stops the whole VM now, or keeps it stopped when an event holds
// it, until Resume. It may be called from any goroutine.
func (l *Listener) Pause() error {
	l.pause.Store(true)
	return l.c.Interrupt() // stops a running VM; Next then waits in waitPause
}

// Resume ends a Pause.
func (l *Listener) Resume() {
	l.pause.Store(false)
	select {
	case l.resume <- struct{}{}:
	default:
	}
}

// Paused says whether the VM is stopped by Pause or by someone else (QEMU's
// monitor), rather than running or stopped at an event.
func (l *Listener) Paused() bool { return l.paused.Load() }

// waitPause blocks while a Pause holds the stopped VM.
func (l *Listener) waitPause(ctx context.Context) error {
	if !l.pause.Load() {
		return nil
	}
	l.paused.Store(true)
	defer l.paused.Store(false)
	for l.pause.Load() {
		select {
		case <-l.resume:
		case <-ctx.Done():
			return ctx.Err()
		case <-l.ctx.Done():
			return kvm.ErrDetached
		}
	}
	return nil
}

// stepOver moves a vCPU stopped by a breakpoint past the instruction
// there (QEMU would stop again at once) and drops a handler-return
// breakpoint nobody waits at any more.
func (l *Listener) stepOver(st *stop) (err error) {
	rip := l.regs.rip.Uint(st.raw)
	r, ok := l.bps[rip]
	if !st.trapped || !ok {
		return nil // moved away by SetRegs, or not at a breakpoint
	}
	if r == roleReturn && !l.awaited(rip) {
		return l.remove(rip)
	}
	if plan := l.plan(rip); plan.kind != stepSingle {
		ok, err := l.emulate(st, rip, plan)
		if err != nil {
			return err
		}
		if ok {
			l.stats.Emulated++
			return nil
		}
	}
	l.stats.Steps++
	kind := l.kinds[rip]
	if err := l.c.RemoveBreakpoint(kind, rip); err != nil {
		return err
	}
	// Until it is inserted again the breakpoint is not QEMU's: when the
	// step fails (Close cancels it, the vCPU does not move) it leaves the
	// set that shut removes.
	defer func() {
		if err != nil {
			delete(l.bps, rip)
			l.unplaced(rip)
		}
	}()
	ctx, cancel := context.WithTimeout(l.ctx, l.cfg.Timeout)
	defer cancel()
	// QEMU may answer the step with another vCPU's pending breakpoint stop
	// before the step ran; that vCPU, still before its breakpoint, reports
	// it again later. Only the stepping vCPU's stop ends the step, and only
	// once that vCPU has left the breakpoint: with two vCPUs QEMU sometimes
	// reports it stopped where it was, and resuming it there would report
	// the same call twice.
	for tries := 0; ; tries++ {
		if tries == maxStepTries {
			return fmt.Errorf("single-stepping over %#x: %w: the vCPU does not move", rip, rsp.ErrMalformed)
		}
		if err := l.c.Step(st.thread); err != nil {
			return err
		}
		s, err := l.c.Wait(ctx)
		if err != nil {
			return fmt.Errorf("single-stepping over %#x: %w", rip, err)
		}
		if s.HasThread && s.Thread != st.thread {
			continue
		}
		raw, err := l.c.ReadRegisters()
		if err != nil {
			return err
		}
		if l.regs.rip.Uint(raw) != rip {
			break
		}
	}
	return l.c.InsertBreakpoint(kind, rip)
}

// maxStepTries bounds the steps retried while other vCPUs report stops.
const maxStepTries = 8

// awaited reports whether any task still waits to return through addr.
func (l *Listener) awaited(addr uint64) bool { return l.waiting[addr] > 0 }

// cachedPlan is the plan of the instruction bytes at a breakpoint.
type cachedPlan struct {
	code [15]byte // x86's longest instruction
	plan stepPlan
}

// plan decodes the instruction at a breakpoint address. The bytes are
// read at every stop (one small read, from the page the vCPU runs): code
// patched there while traced (ftrace, livepatch) gets a new plan.
func (l *Listener) plan(addr uint64) stepPlan {
	if l.cfg.AlwaysStep {
		return stepPlan{kind: stepSingle}
	}
	var code [15]byte
	if err := l.c.ReadVirt(code[:], addr); err != nil {
		return stepPlan{kind: stepSingle}
	}
	if c, ok := l.plans[addr]; ok && c.code == code {
		return c.plan
	}
	p := planStep(code[:])
	l.plans[addr] = cachedPlan{code, p}
	return p
}

// Leave is Close for a VM that someone else paused (virsh suspend) and
// that must stay paused: it removes every breakpoint and closes the
// connection without detaching, since QEMU's detach runs the VM. The
// caller knows the VM is paused (libvirt says so).
func (l *Listener) Leave() error { return l.shut(false) }

// Close removes every breakpoint and detaches, leaving the VM running,
// whatever state the listener is in; it wakes a Next blocked in another
// goroutine. The connection is closed even if detaching fails.
func (l *Listener) Close() error { return l.shut(true) }

// shut removes every breakpoint, detaches (QEMU runs the VM) or not, and
// closes the connection.
func (l *Listener) shut(detach bool) error {
	l.cancel()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	var errs []error
	switch {
	case !detach:
		l.c.AssumeStopped()
	case l.c.Running():
		if err := l.c.Interrupt(); err != nil {
			errs = append(errs, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), l.cfg.Timeout)
		if _, err := l.c.Wait(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping the VM to detach: %w", err))
		}
		cancel()
	}
	for addr := range l.bps {
		if err := l.remove(addr); err != nil {
			errs = append(errs, err)
		}
	}
	if detach {
		if err := l.c.Detach(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(append(errs, l.c.Close())...)
}

// Release detaches from a VM that a debugger left attached: a process
// killed with -9 cannot detach, and QEMU then keeps the VM stopped with
// its breakpoints. Connecting stops the VM (if it was not already);
// detaching removes every gdb breakpoint and resumes it.
// peer, if not 0, is the QEMU process that must serve path.
func Release(ctx context.Context, path string, peer int) error {
	c, err := rsp.Dial(ctx, path, &rsp.Options{Peer: peer})
	if err != nil {
		return err
	}
	return errors.Join(c.Detach(), c.Close())
}
