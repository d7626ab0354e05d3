package physmem

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// OpenProcess reads guest RAM in place in the address space of the QEMU
// process pid: each Range's Off is the host virtual address where QEMU maps
// that guest-physical range (see package qemulayout to learn them). The
// ranges are checked against /proc/PID/maps so a wrong layout fails here,
// not on the first read.
//
// Guest RAM that QEMU maps shared from a file (a memfd or hugetlbfs memory
// backend, as libvirt's <memoryBacking><source type='memfd'/><access
// mode='shared'/> configures) is mapped into this process too and read
// without system calls; the rest is read with process_vm_readv. No read or
// write may run during or after Close.
func OpenProcess(pid int, ranges []Range) (*Source, error) {
	maps, err := readMaps(pid)
	if err != nil {
		return nil, err
	}
	for _, r := range ranges {
		if !maps.covers(r.Off, r.Size) {
			return nil, fmt.Errorf("%w: range %q (guest %#x, %#x bytes) at host %#x is not mapped readable in process %d",
				ErrBadLayout, r.Name, r.GPA, r.Size, r.Off, pid)
		}
	}
	ps := &procStore{pid: pid}
	src, err := newSource(ranges, ps)
	if err != nil {
		return nil, err
	}
	ps.views = mapShared(pid, maps, ranges)
	return src, nil
}

// procStore is the one place that touches another process's memory:
// process_vm_readv/writev, or /proc/PID/mem on kernels or sandboxes that
// refuse them, and local views of its shared mappings (made in maps.go).
type procStore struct {
	pid   int
	views []view // sorted by start

	mu      sync.Mutex              // serialises opening and closing mem and pagemap
	mem     atomic.Pointer[os.File] // /proc/PID/mem, opened on the first fallback
	pageMap atomic.Pointer[os.File] // /proc/PID/pagemap, opened on the first sweep
}

func (ps *procStore) readAt(p []byte, addr uint64) error  { return ps.io(p, addr, false) }
func (ps *procStore) writeAt(p []byte, addr uint64) error { return ps.io(p, addr, true) }

func (ps *procStore) mapped(addr uint64, n int) []byte { return ps.view(addr, n, false) }

func (ps *procStore) io(p []byte, addr uint64, write bool) error {
	if v := ps.view(addr, len(p), write); v != nil {
		if write {
			copy(v, p)
		} else {
			copy(p, v)
		}
		return nil
	}
	f := ps.mem.Load()
	if f == nil {
		vmErr := vmIO(ps.pid, p, addr, write)
		if !errors.Is(vmErr, unix.ENOSYS) && !errors.Is(vmErr, unix.EPERM) {
			return vmErr
		}
		var err error
		if f, err = ps.openMem(); err != nil {
			return fmt.Errorf("%w (falling back: %w)", vmErr, err)
		}
	}
	return fileIO(f, p, addr, write)
}

func (ps *procStore) openMem() (*os.File, error) {
	return ps.openProc(&ps.mem, "mem", os.O_RDWR)
}

func (ps *procStore) pagemap() (*os.File, error) {
	if f := ps.pageMap.Load(); f != nil {
		return f, nil
	}
	return ps.openProc(&ps.pageMap, "pagemap", os.O_RDONLY)
}

// openProc opens /proc/PID/name once, keeping it in slot.
func (ps *procStore) openProc(slot *atomic.Pointer[os.File], name string, flag int) (*os.File, error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if f := slot.Load(); f != nil {
		return f, nil
	}
	f, err := os.OpenFile(fmt.Sprintf("/proc/%d/%s", ps.pid, name), flag, 0)
	if err != nil {
		return nil, err
	}
	slot.Store(f)
	return f, nil
}

func (ps *procStore) close() error {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	var errs []error
	for _, v := range ps.views {
		errs = append(errs, unix.Munmap(v.b), v.file.Close())
	}
	ps.views = nil
	for _, slot := range []*atomic.Pointer[os.File]{&ps.mem, &ps.pageMap} {
		if f := slot.Swap(nil); f != nil {
			errs = append(errs, f.Close())
		}
	}
	return errors.Join(errs...)
}

// vmIO moves p to or from addr in process pid with process_vm_readv or
// process_vm_writev, resuming after partial transfers.
func vmIO(pid int, p []byte, addr uint64, write bool) error {
	for len(p) > 0 {
		local := []unix.Iovec{{Base: unsafe.SliceData(p)}}
		local[0].SetLen(len(p))
		remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: len(p)}}
		var n int
		var err error
		if write {
			n, err = unix.ProcessVMWritev(pid, local, remote, 0)
		} else {
			n, err = unix.ProcessVMReadv(pid, local, remote, 0)
		}
		if err != nil {
			return fmt.Errorf("%s %d bytes at %#x in process %d: %w", verb(write), len(p), addr, pid, err)
		}
		if n == 0 {
			return fmt.Errorf("%s %d bytes at %#x in process %d: %w", verb(write), len(p), addr, pid, unix.EFAULT)
		}
		p, addr = p[n:], addr+uint64(n)
	}
	return nil
}

// fileIO moves p through /proc/PID/mem, whose file offsets are virtual addresses.
func fileIO(f *os.File, p []byte, addr uint64, write bool) error {
	if addr > math.MaxInt64 {
		return fmt.Errorf("%s %#x: %w", verb(write), addr, unix.EFAULT)
	}
	var err error
	if write {
		_, err = f.WriteAt(p, int64(addr))
	} else {
		_, err = f.ReadAt(p, int64(addr))
	}
	if err != nil {
		return fmt.Errorf("%s %d bytes at %#x through %s: %w", verb(write), len(p), addr, f.Name(), err)
	}
	return nil
}

func verb(write bool) string {
	if write {
		return "writing"
	}
	return "reading"
}
