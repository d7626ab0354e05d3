package nitroioctl

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sys is everything the listener asks of the host kernel once /dev/kvm is
// open. Tests replace it with a fake kernel.
type sys struct {
	// ioctl is the one choke point for raw ioctls. It returns the
	// ioctl's non-negative result, or the errno as an error.
	ioctl func(fd int, req uint, arg unsafe.Pointer) (int, error)
	close func(fd int) error
	// alive says whether the QEMU process still exists; a vCPU that only
	// times out is otherwise indistinguishable from an idle one.
	alive func(pid int) bool
}

func hostSys() sys {
	return sys{ioctl: rawIoctl, close: unix.Close, alive: processAlive}
}

func rawIoctl(fd int, req uint, arg unsafe.Pointer) (int, error) {
	r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(arg))
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}

func processAlive(pid int) bool {
	return !errors.Is(unix.Kill(pid, 0), unix.ESRCH)
}
