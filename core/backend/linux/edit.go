package linux

import (
	"errors"
	"fmt"

	"nitro/api"
	"nitro/core/backend"
	"nitro/core/backend/linux/strace"
	"nitro/core/vmi"
)

// redZone is the x86-64 ABI's red zone: the 128 bytes under rsp that a
// function may use without moving rsp. Below it the stack is free while
// the process is in a system call, since the kernel runs on its own.
const redZone = 128

// Use says what the call does with the memory argument i points to,
// after the strace table's argument kinds.
func (a *args) Use(i int) backend.ArgUse {
	in, size := strace.For(a.sc.ABI).Input(a.sc.Nr, i, a.vals)
	u := backend.ArgUse{Kind: backend.ArgValue, Len: size}
	switch in {
	case strace.InputCString:
		u.Kind = backend.ArgString
	case strace.InputBuffer:
		u.Kind = backend.ArgBuffer
	case strace.InputMemory:
		u.Kind = backend.ArgMemory
	}
	return u
}

// word is v as the call's convention reads a pointer or a count: an i386
// call's are the low 32 bits of its registers.
func (a *args) word(v uint64) uint64 {
	if a.sc.ABI == backend.I386 {
		return uint64(uint32(v))
	}
	return v
}

// WriteString writes s and a NUL as argument i's C string: in place when
// the string there is at least as long and writable, else below the stack.
func (a *args) WriteString(i int, s []byte) error {
	if err := a.check(i, len(s)+1); err != nil {
		return err
	}
	if a.Use(i).Kind != backend.ArgString {
		return a.refuse(i, api.ErrNotString)
	}
	data := append(s[:len(s):len(s)], 0)
	va := a.word(a.Get(i))
	// A NUL within the first len(s) bytes means the old string is shorter.
	_, err := a.user.CString(va, len(s)-1)
	if (len(s) == 0 || errors.Is(err, vmi.ErrTruncated)) && a.user.UserWritable(va, len(data)) == nil {
		return a.write(i, data, va)
	}
	return a.place(i, data)
}

// WriteBuffer writes b as argument i's buffer, within its count unless
// setLen changes the count to len(b).
func (a *args) WriteBuffer(i int, b []byte, setLen bool) error {
	if err := a.check(i, len(b)); err != nil {
		return err
	}
	u := a.Use(i)
	switch {
	case u.Kind == backend.ArgValue:
		return a.refuse(i, api.ErrNotPointer)
	case u.Kind == backend.ArgString:
		return a.refuse(i, api.ErrIsString)
	case setLen && u.Kind != backend.ArgBuffer:
		return a.refuse(i, api.ErrNoLength)
	case setLen && a.src == ran:
		return api.ErrReadOnlyArgs // before any byte is written
	}
	count := ^uint64(0) // no size argument: the caller knows best
	if u.Len >= 0 {
		count = a.word(a.Get(u.Len))
	}
	va := a.word(a.Get(i))
	fits := uint64(len(b)) <= count
	writable := a.user.UserWritable(va, len(b))
	var err error
	switch {
	case !fits && !setLen:
		return a.refuse(i, fmt.Errorf("%d bytes, %d counted: %w", len(b), count, api.ErrTooLong))
	case fits && writable == nil:
		err = a.write(i, b, va)
	case u.Kind != backend.ArgBuffer: // memory of unknown shape stays where it is
		return a.refuse(i, fmt.Errorf("writing at %#x: %w", va, writable))
	case fits && !setLen:
		// Moved, the buffer keeps its count: the bytes after b come along.
		var tail []byte
		if tail, err = a.ReadBytes(i, int(count)); err == nil {
			err = a.place(i, append(b[:len(b):len(b)], tail[len(b):]...))
		}
	default:
		err = a.place(i, b)
	}
	if err != nil || !setLen {
		return err
	}
	return a.Set(u.Len, uint64(len(b)))
}

// check refuses an edit of argument i with n bytes before anything is
// read or written.
func (a *args) check(i, n int) error {
	if i < 0 || i >= len(a.vals) {
		return fmt.Errorf("no argument %d", i)
	}
	if n > maxArgBytes {
		return a.refuse(i, fmt.Errorf("%d bytes: more than the %d an edit writes", n, maxArgBytes))
	}
	return nil
}

// refuse says which argument of which call an edit could not change.
func (a *args) refuse(i int, err error) error {
	return fmt.Errorf("%s's argument %d: %w", a.sc.Name, i, err)
}

// write stores data at va, where argument i points.
func (a *args) write(i int, data []byte, va uint64) error {
	if err := a.user.Write(data, va); err != nil {
		return a.refuse(i, fmt.Errorf("writing %d bytes at %#x: %w", len(data), va, err))
	}
	return nil
}

// place puts data below the user stack's red zone, under what this hold
// placed before, and points argument i there. A signal delivered as the
// call returns builds its frame there too, once the call has read the data.
func (a *args) place(i int, data []byte) error {
	if a.src == ran {
		return api.ErrReadOnlyArgs // the pointer could not follow the data
	}
	top := a.below
	if top == 0 {
		top = a.sp - redZone
	}
	n := uint64(len(data))
	if a.sp < redZone || top < n+16 || a.word(top) != top { // a 64-bit stack for an i386 call's 32-bit pointer
		return a.refuse(i, fmt.Errorf("stack pointer %#x: %w", a.sp, api.ErrNoRoom))
	}
	va := (top - n) &^ 15 // the ABI's stack alignment
	if err := a.user.UserWritable(va, len(data)); err != nil {
		return a.refuse(i, fmt.Errorf("%d bytes at %#x, stack pointer %#x: %w: %w", n, va, a.sp, api.ErrNoRoom, err))
	}
	if err := a.write(i, data, va); err != nil {
		return err
	}
	if err := a.Set(i, va); err != nil {
		return err
	}
	a.below = va
	return nil
}
