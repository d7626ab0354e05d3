package strace

// Input is what a call does with the memory one of its arguments points
// to, for a tracer that changes the argument while the call is held: it
// decides whether new bytes are a string, a counted buffer, or neither.
type Input uint8

const (
	// InputNone: the argument is a number, flags or a descriptor, not a
	// pointer the table knows (values shown in hex included).
	InputNone Input = iota
	// InputCString: a NUL-terminated string the call reads, a path or a name.
	InputCString
	// InputBuffer: bytes the call reads, as many as the size argument says.
	InputBuffer
	// InputMemory: memory of another shape (a structure, an array, a buffer
	// the call fills), or any argument of a call the table does not know.
	InputMemory
)

// Input says what call nr does with argument i's memory, given the call's
// argument registers (the kind of some arguments depends on others, as
// fcntl's third on its command). size is the index of the argument that
// holds the byte count of an InputBuffer or of a buffer the call fills
// (write's count, read's), or -1.
func (t *Syscalls) Input(nr uint64, i int, args [6]uint64) (in Input, size int) {
	e := t.lookup(t.word(nr))
	if e == nil {
		return InputMemory, -1
	}
	if i < 0 || i >= len(e.args) {
		return InputNone, -1
	}
	for j := range args {
		args[j] = t.word(args[j])
	}
	switch kindAt(e, i, &args) {
	case kPath, kStr:
		return InputCString, -1
	case kInBuf, kSockaddrIn:
		return InputBuffer, i + 1
	case kOutBuf, kCwdOut, kDirentsOut, kDirentsOldOut, kRandomOut:
		return InputMemory, i + 1
	case kPtr, kStatOut, kTimespecIn, kTimespecOut, kPipeFds, kSockaddrOut, kSocklenPtr,
		kArgv, kEnvp, kSigsetIn, kSigsetOut, kUtsname, kIovecIn, kWaitStatus, kSigactionIn,
		kSigactionOut, kStatxOut, kRlimitIn, kRlimitOut, kStat64Out, kTimespec32In,
		kTimespec32Out, kSocketcallArgs, kRemTimespec, kRemTimespec32, kClone3Args, kPrctlOut:
		return InputMemory, -1
	}
	return InputNone, -1
}
