package nitroioctl

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"nitro/core/kvm"
)

// Errors of this package, besides kvm.ErrDetached and kvm.ErrNotSupported.
var (
	// ErrNotStopped means the event's vCPU is not stopped at that event:
	// it was continued already, or the event did not come from this
	// listener.
	ErrNotStopped = errors.New("vcpu not stopped at this event")
	// ErrUnknownEvent means the kernel reported a direction or type this
	// package does not know. The vCPU has been continued; call Next again.
	ErrUnknownEvent = errors.New("unknown nitro event")
)

// drainLimit bounds how many events one vCPU's reader lets through after the
// trap was switched off, in case switching it off failed and the guest keeps
// trapping; Close must return.
const drainLimit = 64

// Pauser holds the whole VM still while the trap is switched, as the
// original Nitro does around KVM_NITRO_SET_SYSCALL_TRAP. *libvirt.Domain
// satisfies it.
type Pauser interface {
	Suspend() error
	Resume() error
}

// Options tune Attach. The zero value traps every system call.
type Options struct {
	// Syscalls limits events to these system call numbers (RAX at entry).
	// Empty means every system call.
	Syscalls []uint64
	// Pauser, if set, pauses the VM while the trap is switched on or off.
	Pauser Pauser
}

// Listener reports the system calls of one VM through the Nitro ioctls.
//
// Each vCPU has its own reader goroutine blocked in KVM_NITRO_GET_EVENT, so
// vCPUs stop independently: Next may return an event of another vCPU while
// one is still stopped, and each stopped vCPU waits for its own Continue.
type Listener struct {
	sys    sys
	pid    int
	kvmFD  int
	vmFD   int
	vcpus  []*vcpu
	pauser Pauser
	trapOn bool // touched by Attach and Close only

	filterMu sync.Mutex
	filters  map[uint64]bool

	events  chan result
	done    chan struct{} // closed by Close: deliver nothing more, let every vCPU run
	trapOff chan struct{} // closed by Close after switching the trap off: readers may end
	wg      sync.WaitGroup

	failOnce sync.Once
	failed   chan struct{} // closed when a reader hits an error; failErr says which
	failErr  error

	closeOnce sync.Once
	closeErr  error
}

var _ kvm.Listener = (*Listener)(nil)

type vcpu struct {
	index int // position in struct nitro_vcpus; kvm.Event.VCPU
	fd    int

	resume chan struct{} // one slot: Continue tells the reader to fetch again

	mu   sync.Mutex
	held *kvm.Event // the delivered event the vCPU is stopped at
	dead bool       // the reader ended on an error
}

type result struct {
	ev  *kvm.Event
	err error
}

// Attach attaches to the VM run by the QEMU process pid, installs the
// syscall filters and switches the trap on. The caller must Close it.
func Attach(pid int, opts Options) (*Listener, error) {
	if runtime.GOARCH != "amd64" {
		return nil, fmt.Errorf("nitro ioctls on %s: %w", runtime.GOARCH, kvm.ErrNotSupported)
	}
	fd, err := unix.Open("/dev/kvm", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENXIO) {
			err = fmt.Errorf("%w: %w", kvm.ErrNotSupported, err)
		}
		return nil, fmt.Errorf("opening /dev/kvm: %w", err)
	}
	return attach(hostSys(), fd, pid, opts)
}

// attach takes kvmFD over: on error everything it opened is closed again.
func attach(s sys, kvmFD, pid int, opts Options) (_ *Listener, err error) {
	l := &Listener{
		sys:     s,
		pid:     pid,
		kvmFD:   kvmFD,
		vmFD:    -1,
		pauser:  opts.Pauser,
		filters: make(map[uint64]bool),
		events:  make(chan result),
		done:    make(chan struct{}),
		trapOff: make(chan struct{}),
		failed:  make(chan struct{}),
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, l.detach())
		}
	}()

	creator := int32(pid)
	l.vmFD, err = l.sys.ioctl(kvmFD, reqAttachVM, unsafe.Pointer(&creator))
	if err != nil {
		l.vmFD = -1
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOTTY) {
			err = fmt.Errorf("%w (KVM without the Nitro patch?): %w", kvm.ErrNotSupported, err)
		}
		return nil, fmt.Errorf("attaching to the VM of pid %d: %w", pid, err)
	}
	if err := l.attachVCPUs(); err != nil {
		return nil, err
	}
	for _, nr := range opts.Syscalls {
		if err := l.addFilter(nr); err != nil {
			return nil, err
		}
	}
	if err := l.switchTrap(true); err != nil {
		return nil, err
	}
	for _, v := range l.vcpus {
		l.wg.Add(1)
		go l.read(v)
	}
	return l, nil
}

func (l *Listener) attachVCPUs() error {
	var vs nitroVCPUs
	// Entries the kernel leaves alone then read as no descriptor, not fd 0.
	for i := range vs.FDs {
		vs.FDs[i] = -1
	}
	if _, err := l.sys.ioctl(l.vmFD, reqAttachVCPUs, unsafe.Pointer(&vs)); err != nil {
		return fmt.Errorf("attaching to the vcpus: %w", err)
	}
	n := int(vs.NumVCPUs)
	// Keep every descriptor the kernel handed out before judging the
	// answer, so a bad answer still gets them closed.
	for i := 0; i < min(max(n, 0), maxVCPUs); i++ {
		if vs.FDs[i] >= 0 {
			l.vcpus = append(l.vcpus, &vcpu{index: i, fd: int(vs.FDs[i]), resume: make(chan struct{}, 1)})
		}
	}
	if n <= 0 || n > maxVCPUs || len(l.vcpus) != n {
		return fmt.Errorf("attaching to the vcpus: kernel reported %d vcpus, %d usable descriptors", n, len(l.vcpus))
	}
	return nil
}

// switchTrap sets KVM_NITRO_SET_SYSCALL_TRAP, inside a pause if there is a
// Pauser. Switching off goes ahead even if pausing fails: a trap left on is
// worse than one switched off on a running VM.
func (l *Listener) switchTrap(on bool) (err error) {
	if l.pauser != nil {
		if perr := l.pauser.Suspend(); perr != nil {
			err = fmt.Errorf("pausing the VM: %w", perr)
			if on {
				return err
			}
		} else {
			defer func() {
				if rerr := l.pauser.Resume(); rerr != nil {
					err = errors.Join(err, fmt.Errorf("resuming the VM: %w", rerr))
				}
			}()
		}
	}
	enabled := on
	if _, ierr := l.sys.ioctl(l.vmFD, reqSetSyscallTrap, unsafe.Pointer(&enabled)); ierr != nil {
		return errors.Join(err, fmt.Errorf("switching the syscall trap to %v: %w", on, ierr))
	}
	l.trapOn = on
	return err
}

// read is one vCPU's reader: it fetches events, hands them to Next and
// waits for Continue. After Close it lets every event through until the
// trap is off and the kernel has nothing more.
func (l *Listener) read(v *vcpu) {
	defer l.wg.Done()
	drained := 0
	for {
		var raw rawEvent
		_, err := l.sys.ioctl(v.fd, reqGetEvent, unsafe.Pointer(&raw))
		switch {
		case errors.Is(err, unix.ETIME) || errors.Is(err, unix.EINTR):
			// The kernel waits about a second, then gives up: a chance
			// to notice Close or a vanished QEMU.
			if isClosed(l.trapOff) {
				return
			}
			if !isClosed(l.done) && !l.sys.alive(l.pid) {
				l.fail(v, fmt.Errorf("vcpu %d: QEMU process %d is gone: %w", v.index, l.pid, kvm.ErrDetached))
				return
			}
			continue
		case err != nil:
			l.fail(v, fmt.Errorf("vcpu %d: getting event: %w", v.index, err))
			return
		}

		if isClosed(l.done) {
			// Detaching: let it run at once. Nothing better is left to
			// do if this fails; Close reports what went wrong with the trap.
			_, _ = l.sys.ioctl(v.fd, reqContinue, nil)
			drained++
			if isClosed(l.trapOff) && drained >= drainLimit {
				return
			}
			continue
		}
		ev, err := v.event(&raw, time.Now())
		if err != nil {
			if _, cerr := l.sys.ioctl(v.fd, reqContinue, nil); cerr != nil {
				l.fail(v, errors.Join(err, fmt.Errorf("vcpu %d: continuing: %w", v.index, cerr)))
				return
			}
			l.deliver(result{err: err})
			continue
		}
		v.mu.Lock()
		v.held = ev
		v.mu.Unlock()
		l.deliver(result{ev: ev})
		select {
		case <-v.resume:
		case <-l.done:
			v.mu.Lock()
			if v.held != nil {
				_, _ = l.sys.ioctl(v.fd, reqContinue, nil)
				v.held = nil
			}
			v.mu.Unlock()
		}
	}
}

func (l *Listener) deliver(r result) {
	select {
	case l.events <- r:
	case <-l.done:
	}
}

func (v *vcpu) event(raw *rawEvent, t time.Time) (*kvm.Event, error) {
	d, okD := raw.direction()
	m, okM := raw.mechanism()
	if !okD || !okM {
		return nil, fmt.Errorf("vcpu %d: %w: direction %d, type %d", v.index, ErrUnknownEvent, raw.Direction, raw.Type)
	}
	return &kvm.Event{
		VCPU:      v.index,
		Direction: d,
		Mechanism: m,
		Regs:      raw.Regs.toKVM(),
		SRegs:     raw.SRegs.toKVM(),
		Time:      t,
	}, nil
}

// fail records the first reader error; Next returns it from then on.
func (l *Listener) fail(v *vcpu, err error) {
	v.mu.Lock()
	v.dead = true
	v.mu.Unlock()
	l.failOnce.Do(func() {
		l.failErr = err
		close(l.failed)
	})
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// Next blocks until some vCPU stops at a system call. After a reader error
// it returns that error every time; the caller should Close.
func (l *Listener) Next(ctx context.Context) (*kvm.Event, error) {
	select {
	case <-l.done:
		return nil, kvm.ErrDetached
	case <-l.failed:
		return nil, l.failErr
	default:
	}
	select {
	case r := <-l.events:
		return r.ev, r.err
	case <-l.failed:
		return nil, l.failErr
	case <-l.done:
		return nil, kvm.ErrDetached
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Continue lets ev's vCPU run on.
func (l *Listener) Continue(ev *kvm.Event) error {
	return l.withHeld(ev, "continuing", func(v *vcpu) error {
		if _, err := l.sys.ioctl(v.fd, reqContinue, nil); err != nil {
			// Still held: Close tries again.
			return err
		}
		v.held = nil
		v.resume <- struct{}{}
		return nil
	})
}

// SetRegs writes ev.Regs to ev's stopped vCPU.
func (l *Listener) SetRegs(ev *kvm.Event) error {
	return l.withHeld(ev, "setting registers of", func(v *vcpu) error {
		regs := regsFromKVM(&ev.Regs)
		_, err := l.sys.ioctl(v.fd, reqSetRegs, unsafe.Pointer(&regs))
		return err
	})
}

// SetSRegs writes ev.SRegs to ev's stopped vCPU. kvm.SRegs holds only part
// of kvm_sregs, so the rest is read back first and kept; KernelGSBase is an
// MSR and is not written.
func (l *Listener) SetSRegs(ev *kvm.Event) error {
	return l.withHeld(ev, "setting special registers of", func(v *vcpu) error {
		var s kvmSRegs
		if _, err := l.sys.ioctl(v.fd, reqGetSRegs, unsafe.Pointer(&s)); err != nil {
			return err
		}
		s.CR0, s.CR2, s.CR3, s.CR4, s.CR8 = ev.SRegs.CR0, ev.SRegs.CR2, ev.SRegs.CR3, ev.SRegs.CR4, ev.SRegs.CR8
		s.EFER, s.FS.Base, s.GS.Base = ev.SRegs.EFER, ev.SRegs.FSBase, ev.SRegs.GSBase
		_, err := l.sys.ioctl(v.fd, reqSetSRegs, unsafe.Pointer(&s))
		return err
	})
}

// Reload reads ev's stopped vCPU's registers into ev again, for instance to
// see what a SetRegs left.
func (l *Listener) Reload(ev *kvm.Event) error {
	return l.withHeld(ev, "reading registers of", func(v *vcpu) error {
		var regs kvmRegs
		var sregs kvmSRegs
		if _, err := l.sys.ioctl(v.fd, reqGetRegs, unsafe.Pointer(&regs)); err != nil {
			return err
		}
		if _, err := l.sys.ioctl(v.fd, reqGetSRegs, unsafe.Pointer(&sregs)); err != nil {
			return err
		}
		ev.Regs, ev.SRegs = regs.toKVM(), sregs.toKVM()
		return nil
	})
}

// withHeld runs f with ev's vCPU locked, if that vCPU is stopped at ev.
func (l *Listener) withHeld(ev *kvm.Event, what string, f func(v *vcpu) error) error {
	if isClosed(l.done) {
		return kvm.ErrDetached
	}
	if ev == nil || ev.VCPU < 0 || ev.VCPU >= len(l.vcpus) {
		return fmt.Errorf("%s vcpu: %w", what, ErrNotStopped)
	}
	v := l.vcpus[ev.VCPU]
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.held != ev {
		return fmt.Errorf("%s vcpu %d: %w", what, v.index, ErrNotStopped)
	}
	if err := f(v); err != nil {
		return fmt.Errorf("%s vcpu %d: %w", what, v.index, err)
	}
	return nil
}

// AddFilter adds a system call number to the VM's filter: once it holds
// any, only those numbers stop a vCPU.
func (l *Listener) AddFilter(nr uint64) error {
	if isClosed(l.done) {
		return kvm.ErrDetached
	}
	return l.addFilter(nr)
}

// RemoveFilter takes a system call number out of the VM's filter.
func (l *Listener) RemoveFilter(nr uint64) error {
	if isClosed(l.done) {
		return kvm.ErrDetached
	}
	return l.removeFilter(nr)
}

func (l *Listener) addFilter(nr uint64) error {
	l.filterMu.Lock()
	defer l.filterMu.Unlock()
	if err := l.filterIoctl(reqAddSyscallFilter, nr); err != nil {
		return fmt.Errorf("adding syscall filter %d: %w", nr, err)
	}
	l.filters[nr] = true
	return nil
}

func (l *Listener) removeFilter(nr uint64) error {
	l.filterMu.Lock()
	defer l.filterMu.Unlock()
	if err := l.filterIoctl(reqRemoveSyscallFilter, nr); err != nil {
		return fmt.Errorf("removing syscall filter %d: %w", nr, err)
	}
	delete(l.filters, nr)
	return nil
}

func (l *Listener) filterIoctl(req uint, nr uint64) error {
	r, err := l.sys.ioctl(l.vmFD, req, unsafe.Pointer(&nr))
	if err != nil {
		return err
	}
	// The kernel answers 1, without errno, when its filter table is full.
	if r != 0 {
		return fmt.Errorf("kernel refused (result %d)", r)
	}
	return nil
}

// Close detaches: the trap goes off, every stopped vCPU runs on, the
// filters are removed and the descriptors closed, whatever happened before.
// It waits for each reader's last KVM_NITRO_GET_EVENT to time out in the
// kernel (1000 jiffies: one to four seconds, by the host's HZ).
func (l *Listener) Close() error {
	l.closeOnce.Do(func() { l.closeErr = l.detach() })
	return l.closeErr
}

func (l *Listener) detach() error {
	close(l.done)
	var errs []error
	if l.trapOn {
		errs = append(errs, l.switchTrap(false))
	}
	close(l.trapOff)
	l.wg.Wait()
	for _, v := range l.vcpus {
		// A vCPU whose reader died may have stopped since; the kernel
		// refuses this if nothing waits, which is fine.
		if v.dead {
			_, _ = l.sys.ioctl(v.fd, reqContinue, nil)
		}
	}
	l.filterMu.Lock()
	for nr := range l.filters {
		if err := l.filterIoctl(reqRemoveSyscallFilter, nr); err != nil {
			errs = append(errs, fmt.Errorf("removing syscall filter %d: %w", nr, err))
		}
	}
	clear(l.filters)
	l.filterMu.Unlock()
	for _, v := range l.vcpus {
		errs = append(errs, l.closeFD("vcpu", v.fd))
	}
	if l.vmFD >= 0 {
		errs = append(errs, l.closeFD("vm", l.vmFD))
	}
	errs = append(errs, l.closeFD("/dev/kvm", l.kvmFD))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("detaching: %w", err)
	}
	return nil
}

func (l *Listener) closeFD(what string, fd int) error {
	if err := l.sys.close(fd); err != nil {
		return fmt.Errorf("closing %s descriptor %d: %w", what, fd, err)
	}
	return nil
}
