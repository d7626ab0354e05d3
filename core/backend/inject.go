package backend

// Injector is a back end that can carry out fault injection (strace's -e
// inject=): the frontend skips a call by giving it an invalid number at its
// entry (ArgumentMap.SetNumber) and has the back end set and show its
// result at its exit. SyscallNumber and Errno read only what is fixed at
// attach: they may be called while Handle runs.
type Injector interface {
	// SyscallNumber returns the number of the named system call in abi
	// (a name as the back end shows it, or a number); false when abi has
	// no such call.
	SyscallNumber(abi ABI, name string) (uint64, bool)
	// Errno returns the number of an errno: a name as the back end shows
	// it ("ENOENT"), or a decimal number from 1 to 4095.
	Errno(name string) (uint64, error)
	// SetResult makes the call, stopped at its exit, return v to the
	// process, and renders the call again as injected: Ret, Errno,
	// Injected and RetText.
	SetResult(call *Call, v uint64) error
}
