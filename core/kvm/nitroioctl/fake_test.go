package nitroioctl

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fakeKernel plays a Nitro-patched KVM: one VM with a few vCPUs. A vCPU
// that traps stays stopped until KVM_NITRO_CONTINUE, and its event waits in
// a semaphore until KVM_NITRO_GET_EVENT takes it, as in nitro_main.c.
type fakeKernel struct {
	t       *testing.T
	pid     int
	timeout time.Duration // how long GET_EVENT waits before ETIME

	mu        sync.Mutex
	changed   *sync.Cond // signalled when a vCPU is continued
	open      map[int]bool
	trap      bool
	filters   map[uint64]bool
	stopped   []bool
	sem       []chan rawEvent
	regs      []kvmRegs
	sregs     []kvmSRegs
	log       []string
	misuse    []string         // ioctls on closed descriptors and the like
	fail      map[string]error // ioctl name -> error to return
	failVCPU  map[int]error    // GET_EVENT on this vCPU fails
	filterMax int              // the kernel answers 1 past this many filters
	numVCPUs  int32            // what ATTACH_VCPUS reports, if not len(stopped)
	dead      bool             // the QEMU process is gone
}

const (
	fakeKVMFD  = 100
	fakeVMFD   = 101
	fakeVCPUFD = 200
)

func newFakeKernel(t *testing.T, vcpus int) *fakeKernel {
	f := &fakeKernel{
		t:         t,
		pid:       4242,
		timeout:   2 * time.Millisecond,
		open:      map[int]bool{fakeKVMFD: true},
		filters:   make(map[uint64]bool),
		stopped:   make([]bool, vcpus),
		sem:       make([]chan rawEvent, vcpus),
		regs:      make([]kvmRegs, vcpus),
		sregs:     make([]kvmSRegs, vcpus),
		fail:      make(map[string]error),
		failVCPU:  make(map[int]error),
		filterMax: 1024,
		numVCPUs:  int32(vcpus),
	}
	f.changed = sync.NewCond(&f.mu)
	for i := range f.sem {
		f.sem[i] = make(chan rawEvent, 16)
	}
	return f
}

func (f *fakeKernel) sys() sys {
	return sys{ioctl: f.ioctl, close: f.close, alive: f.alive}
}

func (f *fakeKernel) attach(opts Options) (*Listener, error) {
	return attach(f.sys(), fakeKVMFD, f.pid, opts)
}

var reqNames = map[uint]string{
	reqAttachVM:            "ATTACH_VM",
	reqAttachVCPUs:         "ATTACH_VCPUS",
	reqSetSyscallTrap:      "SET_SYSCALL_TRAP",
	reqGetEvent:            "GET_EVENT",
	reqContinue:            "CONTINUE",
	reqGetRegs:             "GET_REGS",
	reqSetRegs:             "SET_REGS",
	reqGetSRegs:            "GET_SREGS",
	reqSetSRegs:            "SET_SREGS",
	reqAddSyscallFilter:    "ADD_SYSCALL_FILTER",
	reqRemoveSyscallFilter: "REMOVE_SYSCALL_FILTER",
}

func (f *fakeKernel) ioctl(fd int, req uint, arg unsafe.Pointer) (int, error) {
	name, ok := reqNames[req]
	if !ok {
		return -1, unix.ENOTTY
	}
	if req == reqGetEvent {
		return f.getEvent(fd, (*rawEvent)(arg))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.open[fd] {
		f.misuse = append(f.misuse, fmt.Sprintf("%s on closed fd %d", name, fd))
		return -1, unix.EBADF
	}
	if err := f.fail[name]; err != nil {
		return -1, err
	}
	switch req {
	case reqAttachVM:
		if fd != fakeKVMFD || int(*(*int32)(arg)) != f.pid {
			return -1, unix.ESRCH
		}
		f.open[fakeVMFD] = true
		f.log = append(f.log, name)
		return fakeVMFD, nil
	case reqAttachVCPUs, reqSetSyscallTrap, reqAddSyscallFilter, reqRemoveSyscallFilter:
		if fd != fakeVMFD {
			return -1, unix.ENOTTY
		}
		return f.vmIoctl(name, req, arg)
	}
	i := fd - fakeVCPUFD
	if i < 0 || i >= len(f.stopped) {
		return -1, unix.ENOTTY
	}
	f.log = append(f.log, fmt.Sprintf("%s %d", name, i))
	switch req {
	case reqContinue:
		if !f.stopped[i] {
			return -1, unix.EPERM // nitro_ioctl_continue: no waiter
		}
		f.stopped[i] = false
		f.changed.Broadcast()
	case reqGetRegs:
		*(*kvmRegs)(arg) = f.regs[i]
	case reqSetRegs:
		f.regs[i] = *(*kvmRegs)(arg)
	case reqGetSRegs:
		*(*kvmSRegs)(arg) = f.sregs[i]
	case reqSetSRegs:
		f.sregs[i] = *(*kvmSRegs)(arg)
	}
	return 0, nil
}

func (f *fakeKernel) vmIoctl(name string, req uint, arg unsafe.Pointer) (int, error) {
	switch req {
	case reqAttachVCPUs:
		vs := (*nitroVCPUs)(arg)
		vs.NumVCPUs = f.numVCPUs
		for i := range min(int(f.numVCPUs), len(f.stopped)) {
			vs.IDs[i] = int32(i)
			vs.FDs[i] = int32(fakeVCPUFD + i)
			f.open[fakeVCPUFD+i] = true
		}
		f.log = append(f.log, name)
	case reqSetSyscallTrap:
		f.trap = *(*bool)(arg)
		f.log = append(f.log, fmt.Sprintf("%s %v", name, f.trap))
	case reqAddSyscallFilter:
		nr := *(*uint64)(arg)
		if len(f.filters) >= f.filterMax {
			return 1, nil // nitro_add_syscall_filter: table full
		}
		f.filters[nr] = true
		f.log = append(f.log, fmt.Sprintf("%s %d", name, nr))
	case reqRemoveSyscallFilter:
		nr := *(*uint64)(arg)
		delete(f.filters, nr)
		f.log = append(f.log, fmt.Sprintf("%s %d", name, nr))
	}
	return 0, nil
}

func (f *fakeKernel) getEvent(fd int, out *rawEvent) (int, error) {
	f.mu.Lock()
	i := fd - fakeVCPUFD
	if !f.open[fd] || i < 0 || i >= len(f.sem) {
		f.misuse = append(f.misuse, fmt.Sprintf("GET_EVENT on bad fd %d", fd))
		f.mu.Unlock()
		return -1, unix.EBADF
	}
	err := f.failVCPU[i]
	sem := f.sem[i]
	f.mu.Unlock()
	if err != nil {
		return -1, err
	}
	select {
	case ev := <-sem:
		*out = ev
		return 0, nil
	case <-time.After(f.timeout):
		return -1, unix.ETIME // down_timeout gave up
	}
}

func (f *fakeKernel) close(fd int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.open[fd] {
		f.misuse = append(f.misuse, fmt.Sprintf("close of closed fd %d", fd))
		return unix.EBADF
	}
	delete(f.open, fd)
	f.log = append(f.log, fmt.Sprintf("close %d", fd))
	return nil
}

func (f *fakeKernel) alive(pid int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return pid == f.pid && !f.dead
}

// syscall is the guest on vCPU i entering system call nr. It reports
// whether the vCPU trapped (and is now stopped).
func (f *fakeKernel) syscall(i int, nr uint64) bool {
	return f.trapRaw(i, rawEvent{
		Direction: rawEnter,
		Type:      rawSyscall,
		Regs:      kvmRegs{RAX: nr, RIP: 0xffffffff81000000, RSP: 0x7ffc0000, RBP: 0x7ffc0100},
		SRegs:     kvmSRegs{CR3: 0x1000 * uint64(i+1), EFER: 0xd01},
	})
}

// trapRaw reports raw as vCPU i's next event, if the trap lets it through.
// The guest runs, so it waits while vCPU i is stopped.
func (f *fakeKernel) trapRaw(i int, raw rawEvent) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.stopped[i] {
		f.changed.Wait()
	}
	if !f.trap || (len(f.filters) > 0 && !f.filters[raw.Regs.RAX]) {
		return false
	}
	f.stopped[i] = true
	f.sem[i] <- raw
	return true
}

func (f *fakeKernel) set(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

func (f *fakeKernel) isStopped(i int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stopped[i]
}

func (f *fakeKernel) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.log)
}

// checkDetached asserts the invariant: trap off, no filter, no vCPU
// stopped, every descriptor closed, no ioctl on a closed one.
func (f *fakeKernel) checkDetached() {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.trap {
		f.t.Error("trap left on")
	}
	if len(f.filters) > 0 {
		f.t.Errorf("filters left: %v", f.filters)
	}
	for i, s := range f.stopped {
		if s {
			f.t.Errorf("vcpu %d left stopped", i)
		}
	}
	if len(f.open) > 0 {
		f.t.Errorf("descriptors left open: %v", f.open)
	}
	if len(f.misuse) > 0 {
		f.t.Errorf("misuse: %s", strings.Join(f.misuse, "; "))
	}
}
