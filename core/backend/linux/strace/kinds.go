package strace

// kind is how one argument is decoded. The table (zsyscalls.go) names a kind
// per argument; gen_table.go spells them without the "k" prefix.
type kind uint8

const (
	kInt    kind = iota // int: signed 32-bit decimal
	kLong               // an x86-64 long: signed 64-bit decimal
	kUint               // unsigned int: 32-bit decimal
	kUlong              // an x86-64 size_t, unsigned long: 64-bit decimal
	kHex                // flags or values strace shows in hex
	kPtr                // a pointer not followed: NULL or hex
	kFd                 // a file descriptor
	kDirFd              // a directory fd of the *at calls: AT_FDCWD or an fd
	kPath               // a NUL-terminated path, capped at Options.PathLimit
	kStr                // a NUL-terminated string, capped at Options.StringLimit
	kInBuf              // bytes the call reads; their count is the next argument
	kOutBuf             // bytes the call writes; their count is its result
	kCwdOut             // getcwd's buffer: a path the call writes
	kOpenFlags
	kMode
	kAtFlags
	kAccess
	kProt
	kMapFlags
	kCloneFlags
	kSignal
	kSigHow
	kFutexOp
	kFamily
	kSockType
	kSockProto // a protocol, named after the family in argument 0
	kIoctl
	kWhence
	kFcntlCmd
	kClockID
	kArchPrctl
	kFdFlags // O_CLOEXEC|O_NONBLOCK under the call's own prefix (SOCK_, EFD_...)
	kDev
	kWaitOptions
	kStatOut
	kTimespecIn
	kTimespecOut
	kPipeFds
	kSockaddrIn  // a sockaddr the call reads; its length is the next argument
	kSockaddrOut // a sockaddr the call writes; its length is at the next argument
	kSocklenPtr  // a pointer to a socklen_t, read at entry and exit
	kArgv
	kEnvp
	kSigsetIn
	kSigsetOut
	kUtsname
	kIovecIn // an iovec array the call reads; its count is the next argument
	kWaitStatus
	kSigactionIn
	kSigactionOut
	kStatxFlags
	kStatxMask
	kStatxOut
	kDirentsOut // getdents64's buffer: shown as a count of entries
	kRlimitRes
	kRlimitIn
	kRlimitOut
	kPageOff        // mmap2's offset in pages: shown in bytes, in hex, as strace does
	kStat64Out      // i386's struct stat64
	kTimespec32In   // i386's struct old_timespec32 (the *_time32 calls)
	kTimespec32Out  // i386's struct old_timespec32, written by the call
	kSocketcall     // i386 socketcall's sub-call: SYS_SOCKET, SYS_CONNECT...
	kSocketcallArgs // i386 socketcall's argument block, read at entry and exit
)

// out says whether the call writes the argument's memory: those are shown
// as a pointer at entry (and after a failure) and decoded at exit, but for
// the ones that hold input too (bothWays).
func (k kind) out() bool {
	switch k {
	case kOutBuf, kCwdOut, kStatOut, kTimespecOut, kPipeFds, kSockaddrOut,
		kSocklenPtr, kSocketcallArgs, kSigsetOut, kUtsname, kWaitStatus, kSigactionOut,
		kStatxOut, kDirentsOut, kRlimitOut, kStat64Out, kTimespec32Out:
		return true
	}
	return false
}

// bothWays says whether an argument the call writes also holds what it
// reads, so it is decoded at entry as well.
func (k kind) bothWays() bool { return k == kSocklenPtr || k == kSocketcallArgs }

// retKind is how a call's successful result is shown.
type retKind uint8

const (
	retDec  retKind = iota // a count, fd or id
	retHex                 // an address
	retOct                 // a mode (umask)
	retNone                // the call does not return (exit, exit_group)
)

// sysent describes one system call.
type sysent struct {
	name string
	ret  retKind
	args []kind
}
