package strace

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"nitro/core/backend"
	"nitro/core/kvm"
)

// ErrUnknownSyscall is returned for a system call name not in the table.
var ErrUnknownSyscall = errors.New("unknown system call")

var byName = func() map[string]uint64 {
	m := make(map[string]uint64, len(table))
	for nr, e := range table {
		if e.name != "" {
			m[e.name] = uint64(nr)
		}
	}
	return m
}()

// Known says whether the built-in table has system call nr.
func Known(nr uint64) bool { return lookup(nr) != nil }

// Name returns the name of system call nr, or "syscall_N" for a number no
// call has.
func Name(nr uint64) string {
	if e := lookup(nr); e != nil {
		return e.name
	}
	return "syscall_" + strconv.FormatUint(nr, 10)
}

// Lookup returns the number of the named system call. It also takes a
// decimal number, and the "syscall_N" names Name gives unknown numbers.
func Lookup(name string) (uint64, error) {
	if nr, ok := byName[name]; ok {
		return nr, nil
	}
	if nr, err := strconv.ParseUint(strings.TrimPrefix(name, "syscall_"), 10, 64); err == nil {
		return nr, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrUnknownSyscall, name)
}

// ParseList parses a comma-separated list of system calls, as given to
// `nitro trace --syscalls openat,write`.
func ParseList(list string) ([]uint64, error) {
	var out []uint64
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		nr, err := Lookup(name)
		if err != nil {
			return nil, err
		}
		out = append(out, nr)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: empty list %q", ErrUnknownSyscall, list)
	}
	return out, nil
}

// Result returns what strace shows after " = " for sc: "3",
// "-1 ENOENT (No such file or directory)", "0x7f3a2000" for an address, or
// "?" for a call that never returns (exit_group). It is "" for an entry,
// whose result is not known yet.
func Result(sc *backend.Syscall) string {
	e := lookup(sc.Nr)
	if sc.Direction == kvm.Enter {
		if e != nil && e.ret == retNone {
			return "?"
		}
		return ""
	}
	if errno := errnoOf(sc.Ret); errno != 0 {
		name, text := errnoInfo(errno)
		value := "-1 "
		if isRestart(errno) {
			value = "? "
		}
		return value + name + " (" + text + ")"
	}
	if e != nil {
		switch e.ret {
		case retHex:
			return string(appendHex(nil, uint64(sc.Ret)))
		case retOct:
			return string(appendOctal(nil, uint64(sc.Ret)))
		}
	}
	return strconv.FormatInt(sc.Ret, 10)
}
