package api

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
