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

// Syscalls is the built-in table of one ABI: its calls' numbers, names and
// argument kinds, and the sizes the decoder reads its structures with.
type Syscalls struct {
	table  []sysent
	byName map[string]uint64
	i386   bool // 32-bit registers, pointers and longs
}

var (
	x8664Calls = newSyscalls(table[:], false)
	i386Calls  = newSyscalls(tableI386[:], true)
)

func newSyscalls(table []sysent, i386 bool) *Syscalls {
	t := &Syscalls{table: table, byName: make(map[string]uint64, len(table)), i386: i386}
	for nr := range table {
		e := &table[nr]
		if e.name != "" {
			t.byName[e.name] = uint64(nr)
			e.sp = specials[e.name]
		}
	}
	return t
}

// For returns the table of abi: I386's, or X8664's for any other value.
func For(abi backend.ABI) *Syscalls {
	if abi == backend.I386 {
		return i386Calls
	}
	return x8664Calls
}

func (t *Syscalls) lookup(nr uint64) *sysent {
	if nr < uint64(len(t.table)) && t.table[nr].name != "" {
		return &t.table[nr]
	}
	return nil
}

// Known says whether the table has system call nr.
func (t *Syscalls) Known(nr uint64) bool { return t.lookup(nr) != nil }

// Name returns the name of system call nr, or "syscall_N" for a number no
// call has.
func (t *Syscalls) Name(nr uint64) string {
	if e := t.lookup(nr); e != nil {
		return e.name
	}
	return "syscall_" + strconv.FormatUint(nr, 10)
}

// Lookup returns the number of the named system call. It also takes a
// decimal number, and the "syscall_N" names Name gives unknown numbers.
func (t *Syscalls) Lookup(name string) (uint64, error) {
	if nr, ok := t.byName[name]; ok {
		return nr, nil
	}
	if nr, err := strconv.ParseUint(strings.TrimPrefix(name, "syscall_"), 10, 64); err == nil {
		return nr, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrUnknownSyscall, name)
}

// ret is a result register as the ABI's caller sees it: an i386 call
// returns eax, whose errors are negative 32-bit numbers.
func (t *Syscalls) ret(r uint64) int64 {
	if t.i386 {
		return int64(int32(r))
	}
	return int64(r)
}

// Known says whether the x86-64 table has system call nr.
func Known(nr uint64) bool { return x8664Calls.Known(nr) }

// Lookup returns the number of the named x86-64 system call. It also takes
// a decimal number, and the "syscall_N" names Name gives unknown numbers.
func Lookup(name string) (uint64, error) { return x8664Calls.Lookup(name) }

// Check returns an error wrapping ErrUnknownSyscall unless name is a
// system call of either ABI (or a number, or a "syscall_N" name).
func Check(name string) error {
	if _, err := i386Calls.Lookup(name); err == nil {
		return nil
	}
	_, err := x8664Calls.Lookup(name)
	return err
}

// Result returns what strace shows after " = " for sc, read with the table
// of sc.ABI: "3", "-1 ENOENT (No such file or directory)", "0x7f3a2000" for
// an address, "1 (SUID_DUMP_USER)" where strace decodes the result (some
// prctl options, membarrier's query), or "?" for a call that never returns
// (exit_group). It is "" for an entry, whose result is not known yet. An
// injected exit (sc.Injected) ends with " (INJECTED)".
func Result(sc *backend.Syscall) string {
	if sc.Injected && sc.Direction == kvm.Exit {
		// The call did not run; its result was set (fault injection):
		// strace marks it so.
		ran := *sc
		ran.Injected = false
		return Result(&ran) + " (INJECTED)"
	}
	t := For(sc.ABI)
	e := t.lookup(sc.Nr)
	if sc.Direction == kvm.Enter {
		if e != nil && e.ret == retNone {
			return "?"
		}
		return ""
	}
	ret := t.ret(uint64(sc.Ret))
	if errno := errnoOf(ret); errno != 0 {
		name, text := errnoInfo(errno)
		value := "-1 "
		if erestart(errno) {
			value = "? "
		}
		return value + name + " (" + text + ")"
	}
	if e != nil {
		if b, ok := auxResult(e.sp, sc.Args, t.word(uint64(ret))); ok {
			return string(b)
		}
		switch e.ret {
		case retHex:
			return string(appendHex(nil, t.word(uint64(ret))))
		case retOct:
			return string(appendOctal(nil, uint64(ret)))
		}
	}
	return strconv.FormatInt(ret, 10)
}

// auxResult writes the successful result r of a call whose result strace
// decodes (prctl's of some options, membarrier's MEMBARRIER_CMD_QUERY):
// "0x1ff (MEMBARRIER_CMD_GLOBAL|...)". ok is false for the other calls.
func auxResult(sp special, args []backend.Arg, r uint64) (b []byte, ok bool) {
	arg := func(i int) uint64 {
		if i < len(args) {
			return args[i].Raw
		}
		return 0
	}
	switch sp {
	case spPrctl:
		return prctlResult(nil, uint32(arg(0)), arg(1), r)
	case spMembarrier:
		if uint32(arg(0)) != 0 || r == 0 {
			return nil, false
		}
		b = append(appendHex(nil, r), " ("...)
		return append(appendFlags(b, r, membarrierCmds, "", ""), ')'), true
	case spFcntl:
		switch int32(arg(1)) {
		case fGetfl:
			b = append(appendHex(nil, r), " (flags "...)
			return append(appendOpenFlags(b, r), ')'), true
		case fGetfd:
			if r == 0 {
				return nil, false
			}
			b = append(appendHex(nil, r), " (flags "...)
			return append(appendFlags(b, r, fdFlags, "", ""), ')'), true
		}
	}
	return nil, false
}

// word is v as the ABI's registers and pointers hold it: i386's are 32 bits.
func (t *Syscalls) word(v uint64) uint64 {
	if t.i386 {
		return uint64(uint32(v))
	}
	return v
}

// wordSize is the size in bytes of the ABI's pointers and longs.
func (t *Syscalls) wordSize() int {
	if t.i386 {
		return 4
	}
	return 8
}
