package windows

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf16"

	"nitro/api"
	"nitro/core/backend"
	"nitro/core/kvm"
	"nitro/core/vmi"
)

// stopAt is where a call's vCPU stopped.
type stopAt uint8

const (
	atEntry   stopAt = iota + 1 // KiSystemCall64: r10, rdx, r8, r9, then the user stack
	atHandler                   // a service's handler: rcx, rdx, r8, r9, then the kernel stack
	atExit                      // after the service: the NTSTATUS in rax
)

// maxArgs is the most arguments an nt service takes (17).
const maxArgs = 17

// stackArgs is where the fifth argument lies above rsp at both entry
// stops: the return address and four home slots come first.
const stackArgs = 0x28

// handled is a call the back end made: the Syscall and its arguments.
type handled struct {
	call backend.Call
	args args
}

// args implements backend.ArgumentMap for one stopped call.
type args struct {
	b          *Backend
	user, kern vmi.Space
	regs       *kvm.Regs
	at         stopAt
	stack      uint64 // rsp at an entry stop
	vals       [maxArgs]uint64
	n          int
	kinds      []kind
	result     uint64
}

var _ backend.ArgumentMap = (*args)(nil)

// read fills vals with the call's n arguments, the stack ones read where
// the stop keeps them; an unreadable stack argument reads 0.
func (a *args) read(n int) {
	a.n = min(max(n, 0), maxArgs)
	r := a.regs
	first := [4]uint64{r.R10, r.RDX, r.R8, r.R9}
	mem := a.user
	if a.at == atHandler {
		first[0], mem = r.RCX, a.kern
	}
	for i := range a.n {
		if i < 4 {
			a.vals[i] = first[i]
			continue
		}
		a.vals[i], _ = mem.U64(a.stack + stackArgs + 8*uint64(i-4))
	}
}

func (a *args) Len() int         { return a.n }
func (a *args) Shown(i int) int  { return i }
func (a *args) Get(i int) uint64 { return a.vals[min(max(i, 0), maxArgs-1)] }

var (
	// ErrNotAtEntry means a change only an entry allows was asked elsewhere.
	ErrNotAtEntry = errors.New("only at a call's entry")
	// ErrNotAtExit means a return value was set before the call ran.
	ErrNotAtExit = errors.New("only at a call's exit")
	// ErrNoArg means the call has no such argument.
	ErrNoArg = errors.New("no such argument")
	// ErrNoString means the argument does not point to a string nitro can rewrite.
	ErrNoString = errors.New("not a UNICODE_STRING or OBJECT_ATTRIBUTES argument")
	// ErrTooLong means a string does not fit a UNICODE_STRING.
	ErrTooLong = errors.New("string longer than a UNICODE_STRING holds")
)

// Set changes argument i where the kernel will read it.
func (a *args) Set(i int, v uint64) error {
	if i < 0 || i >= a.n {
		return fmt.Errorf("arg %d: %w", i, ErrNoArg)
	}
	if a.at == atExit {
		return ErrNotAtEntry
	}
	r := a.regs
	regs := [4]*uint64{&r.R10, &r.RDX, &r.R8, &r.R9}
	if a.at == atHandler {
		regs[0] = &r.RCX
	}
	if i < 4 {
		*regs[i] = v
	} else {
		mem := a.user
		if a.at == atHandler {
			mem = a.kern
		}
		if err := mem.PutU64(a.stack+stackArgs+8*uint64(i-4), v); err != nil {
			return err
		}
	}
	a.vals[i] = v
	return nil
}

// maxRead bounds a read of guest memory for an edit or a preview.
const maxRead = 1 << 20

func (a *args) ReadBytes(i, n int) ([]byte, error) {
	if n < 0 || n > maxRead {
		return nil, fmt.Errorf("reading %d bytes: %w", n, ErrTooLong)
	}
	b := make([]byte, n)
	return b, a.user.Read(b, a.Get(i))
}

func (a *args) WriteBytes(i int, p []byte) error { return a.user.Write(p, a.Get(i)) }

// Use says what the call does with what argument i points to: the
// strings an edit may rewrite are UNICODE_STRINGs, direct or an
// OBJECT_ATTRIBUTES's name.
func (a *args) Use(i int) backend.ArgUse {
	if i >= 0 && i < len(a.kinds) {
		switch a.kinds[i] {
		case kOA, kUStr:
			return backend.ArgUse{Kind: backend.ArgString, Len: -1}
		case kBuf:
			return backend.ArgUse{Kind: backend.ArgBuffer, Len: i + 1}
		}
	}
	return backend.ArgUse{Kind: backend.ArgValue, Len: -1}
}

// unicodeString is where argument i's UNICODE_STRING lies.
func (a *args) unicodeString(i int) (uint64, error) {
	if i < 0 || i >= len(a.kinds) || a.vals[i] == 0 {
		return 0, ErrNoString
	}
	switch a.kinds[i] {
	case kUStr:
		return a.vals[i], nil
	case kOA:
		name, err := a.user.U64(a.vals[i] + oaObjectName)
		if err == nil && name == 0 {
			err = ErrNoString
		}
		return name, err
	}
	return 0, ErrNoString
}

// redZone is what is left free below the user stack pointer before a
// moved string: the x64 Windows ABI has no red zone, but a margin costs
// nothing.
const redZone = 0x100

// WriteString makes argument i's UNICODE_STRING say s (UTF-8, converted to
// UTF-16; a trailing NUL is dropped, a UNICODE_STRING counts its length).
// It goes in place when MaximumLength has room; else, at an entry, below
// the user stack, and the string's Buffer points there.
func (a *args) WriteString(i int, s []byte) error {
	if len(s) > 0 && s[len(s)-1] == 0 {
		s = s[:len(s)-1]
	}
	us, err := a.unicodeString(i)
	if err != nil {
		return err
	}
	var units []byte
	for _, u := range utf16.Encode([]rune(string(s))) {
		units = binary.LittleEndian.AppendUint16(units, u)
	}
	if len(units) > 0xfffe {
		return ErrTooLong
	}
	var hdr [16]byte
	if err := a.user.Read(hdr[:], us); err != nil {
		return err
	}
	maxLen := binary.LittleEndian.Uint16(hdr[2:])
	buf := binary.LittleEndian.Uint64(hdr[8:])
	if len(units) > int(maxLen) || buf == 0 {
		if a.at != atEntry {
			return fmt.Errorf("moving a longer string: %w", ErrNotAtEntry)
		}
		buf = (a.regs.RSP - redZone - uint64(len(units))) &^ 15
		maxLen = uint16(len(units))
	}
	if err := a.user.Write(units, buf); err != nil {
		return err
	}
	binary.LittleEndian.PutUint16(hdr[0:], uint16(len(units)))
	binary.LittleEndian.PutUint16(hdr[2:], maxLen)
	binary.LittleEndian.PutUint64(hdr[8:], buf)
	return a.user.Write(hdr[:], us)
}

// WriteBuffer writes b as the bytes argument i points to, within the
// count argument i+1 holds; with setLen (at an entry) the count becomes
// len(b), and a b longer than the old count goes below the user stack.
func (a *args) WriteBuffer(i int, b []byte, setLen bool) error {
	if i < 0 || i+1 >= a.n || i >= len(a.kinds) || a.kinds[i] != kBuf {
		if setLen {
			return fmt.Errorf("arg %d: %w", i, api.ErrNoLength)
		}
		return a.WriteBytes(i, b)
	}
	count := a.vals[i+1] & 0xffffffff
	switch {
	case uint64(len(b)) <= count:
		if err := a.WriteBytes(i, b); err != nil {
			return err
		}
	case !setLen:
		return fmt.Errorf("arg %d: %w", i, api.ErrTooLong)
	case a.at != atEntry:
		return fmt.Errorf("moving a longer buffer: %w", ErrNotAtEntry)
	default:
		buf := (a.regs.RSP - redZone - uint64(len(b))) &^ 15
		if err := a.user.Write(b, buf); err != nil {
			return err
		}
		if err := a.Set(i, buf); err != nil {
			return err
		}
	}
	if setLen {
		return a.Set(i+1, uint64(len(b)))
	}
	return nil
}

// SetNumber changes the service about to run.
func (a *args) SetNumber(nr uint64) error {
	if a.at != atEntry {
		return ErrNotAtEntry
	}
	a.regs.RAX = nr
	return nil
}

// SetReturn changes the NTSTATUS the call returns.
func (a *args) SetReturn(v uint64) error {
	if a.at != atExit {
		return ErrNotAtExit
	}
	a.regs.RAX, a.result = v, v
	return nil
}
