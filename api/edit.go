package api

import "errors"

// Refusals of an edit, for errors.Is; the error that wraps one says which
// argument and why.
var (
	// ErrReadOnlyArgs: the call has run, its arguments are history.
	ErrReadOnlyArgs = errors.New("arguments of a finished call cannot change")
	// ErrNotAtEntry: the call's number changes only before the kernel
	// chose the call (at its entry).
	ErrNotAtEntry = errors.New("the call's number can change only at its entry")
	// ErrNotAtExit: the return value changes only at the call's exit.
	ErrNotAtExit = errors.New("the return value can change only at the call's exit")
	// ErrNotPointer: bytes for an argument that is a number, flags or a
	// descriptor.
	ErrNotPointer = errors.New("not a pointer to data the call uses: edit it as a number")
	// ErrNotString: a string for an argument that is no C string.
	ErrNotString = errors.New("not a C string (a path or a name) the call reads")
	// ErrIsString: bytes without string semantics for a C string.
	ErrIsString = errors.New("a C string: edit it as a string, which ends with a NUL")
	// ErrNoLength: a length to set for an argument that has none.
	ErrNoLength = errors.New("no length argument to set")
	// ErrTooLong: bytes longer than the count the call has, without a
	// new count.
	ErrTooLong = errors.New("longer than the count the call has: set the count too")
	// ErrNoRoom: data that fits neither where the argument points nor
	// below the process's stack.
	ErrNoRoom = errors.New("no writable memory below the process's stack for it (the process never used that much stack)")
)

// ArgKind is what a held call does with the memory an argument points to,
// which decides what an edit of the argument may write there.
type ArgKind uint8

const (
	// ArgValue is a number, flags or a descriptor: only its value changes.
	ArgValue ArgKind = iota
	// ArgString points to a NUL-terminated string the call reads: a path
	// (openat's, execve's), a name. Edited with Edit.String.
	ArgString
	// ArgBuffer points to bytes the call reads, as many as argument Len
	// says (write's buf and count). Edited with Data, and Edit.Len to set
	// the length to the new bytes'.
	ArgBuffer
	// ArgMemory points to memory of another shape (a structure, a buffer
	// the call fills, an argument of a call nitro does not know): Data is
	// written as given, within the size argument Len when there is one.
	ArgMemory
)

// ArgUse is what a held call does with one of its arguments.
type ArgUse struct {
	Kind ArgKind
	// Len is the index of the argument holding the size of an ArgBuffer
	// or of an ArgMemory (read's count), or -1.
	Len int
}

// Pointer says whether an edit may write bytes where the argument points.
func (u ArgUse) Pointer() bool { return u.Kind != ArgValue }
