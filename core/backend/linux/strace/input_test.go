package strace

import (
	"testing"

	"nitro/core/backend"
)

// TestInput: what an edit of an argument may write follows the table:
// paths and names are C strings, write's buffer is counted by its next
// argument, read's is memory of that size, flags are no pointer at all.
func TestInput(t *testing.T) {
	const fSetfl = 4
	for _, c := range []struct {
		abi  backend.ABI
		name string
		i    int
		args [6]uint64
		in   Input
		size int
	}{
		{backend.X8664, "openat", 1, [6]uint64{}, InputCString, -1},
		{backend.X8664, "openat", 2, [6]uint64{}, InputNone, -1},
		{backend.X8664, "execve", 0, [6]uint64{}, InputCString, -1},
		{backend.X8664, "rename", 1, [6]uint64{}, InputCString, -1},
		{backend.X8664, "write", 1, [6]uint64{}, InputBuffer, 2},
		{backend.X8664, "pwrite64", 1, [6]uint64{}, InputBuffer, 2},
		{backend.X8664, "sendto", 1, [6]uint64{}, InputBuffer, 2},
		{backend.X8664, "read", 1, [6]uint64{}, InputMemory, 2},
		{backend.X8664, "fstat", 1, [6]uint64{}, InputMemory, -1},
		{backend.X8664, "write", 0, [6]uint64{}, InputNone, -1},
		{backend.X8664, "write", 5, [6]uint64{}, InputNone, -1}, // past the call's arguments
		{backend.X8664, "fcntl", 2, [6]uint64{3, fSetfl}, InputNone, -1},
		{backend.I386, "unlink", 0, [6]uint64{}, InputCString, -1},
		{backend.I386, "write", 1, [6]uint64{}, InputBuffer, 2},
	} {
		tab := For(c.abi)
		nr, err := tab.Lookup(c.name)
		if err != nil {
			t.Fatal(err)
		}
		if in, size := tab.Input(nr, c.i, c.args); in != c.in || size != c.size {
			t.Errorf("%v %s arg %d: %d, size %d; want %d, size %d", c.abi, c.name, c.i, in, size, c.in, c.size)
		}
	}
	if in, size := For(backend.X8664).Input(999, 0, [6]uint64{}); in != InputMemory || size != -1 {
		t.Errorf("an unknown call: %d, size %d; want InputMemory: its arguments may point anywhere", in, size)
	}
}
