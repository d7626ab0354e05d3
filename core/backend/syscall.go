package backend

import "nitro/api"

// The system call event and its parts are the faces' own types (package
// api): the back end fills them in, every face reads them as they are.
type (
	Process = api.Process
	ABI     = api.ABI
	Arg     = api.Arg
	Syscall = api.Syscall
	ArgUse  = api.ArgUse
)

const (
	X8664 = api.X8664
	I386  = api.I386

	ArgValue  = api.ArgValue
	ArgString = api.ArgString
	ArgBuffer = api.ArgBuffer
	ArgMemory = api.ArgMemory
)
