package strace

// kind is how one argument is decoded. The table (zsyscalls.go) names a kind
// per argument; gen_table.go spells them without the "k" prefix.
type kind uint8

const (
	kInt    kind = iota // int: signed 32-bit decimal
	kLong               // an x86-64 long: signed 64-bit decimal
	kUint               // unsigned int: 32-bit decimal
	kUid                // a uid or gid as strace's printuid: -1, or 32-bit unsigned decimal
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
	kUmode // a mode as strace's print_numeric_umode_t: its low 16 bits in octal, no file type
	kAtFlags
	kAccess
	kProt
	kMapFlags
	kUnshareFlags
	kSetnsType
	kSignal
	kSigHow
	kFutexOp
	kFutexBitset // futex's val3 under the *_BITSET commands
	kFamily
	kSockType
	kSockProto   // a protocol, named after the family in argument 0
	kSockLevel   // a socket option's level: SOL_SOCKET...
	kSockOptName // a socket option, named after the level in the argument before
	kSockOptIn   // setsockopt's value: [int] when its length (the next argument) is an int's, else bytes
	kIoctl
	kWhence
	kFcntlCmd
	kClockID
	kArchPrctl
	kFdFlags // O_CLOEXEC|O_NONBLOCK under the call's own prefix (SOCK_, EFD_...)
	kDev
	kWaitOptions
	kFlockOp     // flock's operation: LOCK_ flags
	kPrioWhich   // getpriority's which: PRIO_
	kItimerWhich // getitimer's which: ITIMER_
	kSchedPolicy // a scheduling policy: SCHED_
	kXattrFlags  // setxattr's flags: XATTR_
	kRenameFlags // renameat2's flags: RENAME_
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
	kRemTimespec    // nanosleep's remainder: written only when a signal interrupts the call
	kRemTimespec32  // kRemTimespec of the *_time32 calls
	kClockFlags     // clock_nanosleep's TIMER_ABSTIME
	kShutdownHow
	kMadvise
	kGrndFlags
	kRandomOut // getrandom's buffer: the bytes it wrote, all in \x form
	kMlockFlags
	kMlockallFlags
	kMsyncFlags
	kMremapFlags
	kMembarrierCmd
	kMembarrierFlags
	kDirentsOldOut // getdents's buffer of struct linux_dirent (word-sized d_ino, d_off)
	kClone3Args    // clone3's struct clone_args, and at exit what the call stored
	kPrctlOption
	kPrctlArg // a prctl argument whose form depends on the option
	kPrctlOut // a prctl argument the call writes, in the option's form
	kKptrOut  // a pointer the call stores: [0x7f...]
)

// out says whether the call writes the argument's memory: those are shown
// as a pointer at entry (and after a failure) and decoded at exit, but for
// the ones that hold input too (bothWays).
func (k kind) out() bool {
	switch k {
	case kOutBuf, kCwdOut, kStatOut, kTimespecOut, kPipeFds, kSockaddrOut,
		kSocklenPtr, kSocketcallArgs, kSigsetOut, kUtsname, kWaitStatus, kSigactionOut,
		kStatxOut, kDirentsOut, kRlimitOut, kStat64Out, kTimespec32Out, kRemTimespec,
		kRemTimespec32, kRandomOut, kDirentsOldOut, kClone3Args, kPrctlOut, kKptrOut:
		return true
	}
	return false
}

// bothWays says whether an argument the call writes also holds what it
// reads, so it is decoded at entry as well.
func (k kind) bothWays() bool {
	return k == kSocklenPtr || k == kSocketcallArgs || k == kClone3Args
}

// retKind is how a call's successful result is shown.
type retKind uint8

const (
	retDec  retKind = iota // a count, fd or id
	retHex                 // an address
	retOct                 // a mode (umask)
	retNone                // the call does not return (exit, exit_group)
)

// special marks the calls whose arguments are not each one kind: their
// count, kinds or order depend on what they hold.
type special uint8

const (
	spNone special = iota
	spOpen
	spFcntl
	spFutex
	spPrctl
	spClone
	spClockNanosleep
	spMembarrier
	spMremap
	spRtSigreturn
	spSigreturn
	spArchPrctl
	spMknod
	spMqOpen
)

// specials are the calls of either ABI that newSyscalls marks special.
var specials = map[string]special{
	"open": spOpen, "openat": spOpen,
	"fcntl": spFcntl, "fcntl64": spFcntl,
	"futex": spFutex, "futex_time64": spFutex,
	"clock_nanosleep": spClockNanosleep, "clock_nanosleep_time64": spClockNanosleep,
	"rt_sigreturn": spRtSigreturn, "sigreturn": spSigreturn,
	"prctl": spPrctl, "arch_prctl": spArchPrctl, "clone": spClone,
	"membarrier": spMembarrier, "mremap": spMremap,
	"mknod": spMknod, "mknodat": spMknod, "mq_open": spMqOpen,
}

// sysent describes one system call.
type sysent struct {
	name string
	ret  retKind
	args []kind
	sp   special // set by newSyscalls
}
