package linux

import (
	"errors"
	"fmt"
	"strconv"

	"nitro/core/backend"
	"nitro/core/backend/linux/strace"
	"nitro/core/kvm"
)

var _ backend.Injector = (*Backend)(nil)

// ErrUnknownErrno is an errno name the back end does not know.
var ErrUnknownErrno = errors.New("unknown errno")

// maxErrno is the largest error a Linux system call returns (-4095).
const maxErrno = 4095

// SyscallNumber returns the number of the named call in abi: a name of
// the built-in tables (or a number), or for x86-64 a name of the guest's
// own sys_call_table.
func (b *Backend) SyscallNumber(abi backend.ABI, name string) (uint64, bool) {
	if nr, err := strace.For(abi).Lookup(name); err == nil {
		return nr, true
	}
	if abi == backend.X8664 {
		for nr, n := range b.names {
			if n == name {
				return uint64(nr), true
			}
		}
	}
	return 0, false
}

// Errno returns the number of an errno as strace names it ("ENOENT"), or
// of a decimal number from 1 to 4095.
func (b *Backend) Errno(name string) (uint64, error) {
	if n, err := strconv.Atoi(name); err == nil {
		if n < 1 || n > maxErrno {
			return 0, fmt.Errorf("errno %d: a Linux errno is from 1 to %d", n, maxErrno)
		}
		return uint64(n), nil
	}
	for e := 1; e <= maxErrno; e++ { // arming is rare: no table by name
		if strace.ErrnoName(e) == name {
			return uint64(e), nil
		}
	}
	return 0, fmt.Errorf("%w %q (names as strace prints them, e.g. ENOENT, or a number)", ErrUnknownErrno, name)
}

// SetResult makes the call stopped at its exit return v, and decodes it
// again with that result, as strace shows an injected call: what it would
// have written is decoded as if it had returned v.
func (b *Backend) SetResult(call *backend.Call, v uint64) error {
	if call.Direction != kvm.Exit {
		return backend.ErrForeignCall
	}
	if err := call.Arguments.SetReturn(v); err != nil {
		return err
	}
	call.Injected = true
	return b.Redecode(call)
}
