package strace

import "strconv"

// A flag is one named bit (or bit group) of a flags argument.
type flag struct {
	bits uint64
	name string
}

// appendFlags writes v as names joined by '|' in the table's order, then any
// bits no name covers in hex; zero is written as zero.
func appendFlags(dst []byte, v uint64, table []flag, zero string) []byte {
	if v == 0 {
		return append(dst, zero...)
	}
	start := len(dst)
	for _, f := range table {
		if f.bits != 0 && v&f.bits == f.bits {
			dst = appendSep(dst, start)
			dst = append(dst, f.name...)
			v &^= f.bits
		}
	}
	if v != 0 {
		dst = appendSep(dst, start)
		dst = appendHex(dst, v)
	}
	return dst
}

func appendSep(dst []byte, start int) []byte {
	if len(dst) > start {
		dst = append(dst, '|')
	}
	return dst
}

// appendValue writes the name of v from names, or v in decimal if it has none.
func appendValue(dst []byte, v int64, names map[int64]string) []byte {
	if n, ok := names[v]; ok {
		return append(dst, n...)
	}
	return strconv.AppendInt(dst, v, 10)
}

// appendIndexed writes names[v], or v in decimal if it has no name.
func appendIndexed(dst []byte, v int64, names []string) []byte {
	if v >= 0 && v < int64(len(names)) && names[v] != "" {
		return append(dst, names[v]...)
	}
	return strconv.AppendInt(dst, v, 10)
}

func appendHex(dst []byte, v uint64) []byte {
	if v == 0 {
		return append(dst, '0')
	}
	dst = append(dst, "0x"...)
	return strconv.AppendUint(dst, v, 16)
}

const (
	oAccMode  = 0o3
	oCreat    = 0o100
	oTmpfile  = 0o20000000 // __O_TMPFILE
	oCloexec  = 0o2000000
	oNonblock = 0o4000
)

var openAccess = []string{"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"}

// openFlags is in strace's order (xlat/open_mode_flags.in): composite flags
// before their parts.
var openFlags = []flag{
	{0o100, "O_CREAT"},
	{0o200, "O_EXCL"},
	{0o400, "O_NOCTTY"},
	{0o1000, "O_TRUNC"},
	{0o2000, "O_APPEND"},
	{oNonblock, "O_NONBLOCK"},
	{0o4010000, "O_SYNC"},
	{0o10000, "O_DSYNC"},
	{0o40000, "O_DIRECT"},
	{0o100000, "O_LARGEFILE"},
	{0o400000, "O_NOFOLLOW"},
	{0o1000000, "O_NOATIME"},
	{oCloexec, "O_CLOEXEC"},
	{0o10000000, "O_PATH"},
	{0o20200000, "O_TMPFILE"},
	{0o200000, "O_DIRECTORY"},
	{0o20000, "O_ASYNC"},
}

var atFlags = []flag{
	{0x100, "AT_SYMLINK_NOFOLLOW"},
	{0x200, "AT_REMOVEDIR"},
	{0x400, "AT_SYMLINK_FOLLOW"},
	{0x800, "AT_NO_AUTOMOUNT"},
	{0x1000, "AT_EMPTY_PATH"},
	{0x2000, "AT_STATX_FORCE_SYNC"},
	{0x4000, "AT_STATX_DONT_SYNC"},
	{0x8000, "AT_RECURSIVE"},
}

var accessFlags = []flag{{4, "R_OK"}, {2, "W_OK"}, {1, "X_OK"}}

var protFlags = []flag{
	{1, "PROT_READ"},
	{2, "PROT_WRITE"},
	{4, "PROT_EXEC"},
	{8, "PROT_SEM"},
	{0x01000000, "PROT_GROWSDOWN"},
	{0x02000000, "PROT_GROWSUP"},
}

var mapTypes = []string{1: "MAP_SHARED", 2: "MAP_PRIVATE", 3: "MAP_SHARED_VALIDATE"}

var mapFlags = []flag{
	{0x10, "MAP_FIXED"},
	{0x20, "MAP_ANONYMOUS"},
	{0x40, "MAP_32BIT"},
	{0x100, "MAP_GROWSDOWN"},
	{0x800, "MAP_DENYWRITE"},
	{0x1000, "MAP_EXECUTABLE"},
	{0x2000, "MAP_LOCKED"},
	{0x4000, "MAP_NORESERVE"},
	{0x8000, "MAP_POPULATE"},
	{0x10000, "MAP_NONBLOCK"},
	{0x20000, "MAP_STACK"},
	{0x40000, "MAP_HUGETLB"},
	{0x80000, "MAP_SYNC"},
	{0x100000, "MAP_FIXED_NOREPLACE"},
	{0x4000000, "MAP_UNINITIALIZED"},
}

var cloneFlags = []flag{
	{0x100, "CLONE_VM"},
	{0x200, "CLONE_FS"},
	{0x400, "CLONE_FILES"},
	{0x800, "CLONE_SIGHAND"},
	{0x1000, "CLONE_PIDFD"},
	{0x2000, "CLONE_PTRACE"},
	{0x4000, "CLONE_VFORK"},
	{0x8000, "CLONE_PARENT"},
	{0x10000, "CLONE_THREAD"},
	{0x20000, "CLONE_NEWNS"},
	{0x40000, "CLONE_SYSVSEM"},
	{0x80000, "CLONE_SETTLS"},
	{0x100000, "CLONE_PARENT_SETTID"},
	{0x200000, "CLONE_CHILD_CLEARTID"},
	{0x400000, "CLONE_DETACHED"},
	{0x800000, "CLONE_UNTRACED"},
	{0x1000000, "CLONE_CHILD_SETTID"},
	{0x2000000, "CLONE_NEWCGROUP"},
	{0x4000000, "CLONE_NEWUTS"},
	{0x8000000, "CLONE_NEWIPC"},
	{0x10000000, "CLONE_NEWUSER"},
	{0x20000000, "CLONE_NEWPID"},
	{0x40000000, "CLONE_NEWNET"},
	{0x80000000, "CLONE_IO"},
}

// signals are the names of signals 1..31; 32 is SIGRTMIN and 33..64 are
// SIGRT_1..SIGRT_32, as strace names them.
var signals = []string{
	1: "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS",
	"SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM",
	"SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN",
	"SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH",
	"SIGIO", "SIGPWR", "SIGSYS",
}

const (
	sigRTMin = 32
	sigMax   = 64
)

// appendSignal writes signal number s as strace does, with or without the
// SIG prefix (sigsets print names without it).
func appendSignal(dst []byte, s int64, prefix bool) []byte {
	switch {
	case s > 0 && s < int64(len(signals)):
		if prefix {
			return append(dst, signals[s]...)
		}
		return append(dst, signals[s][3:]...)
	case s == sigRTMin:
		if prefix {
			dst = append(dst, "SIG"...)
		}
		return append(dst, "RTMIN"...)
	case s > sigRTMin && s <= sigMax:
		if prefix {
			dst = append(dst, "SIG"...)
		}
		dst = append(dst, "RT_"...)
		return strconv.AppendInt(dst, s-sigRTMin, 10)
	}
	return strconv.AppendInt(dst, s, 10)
}

var sigHows = []string{"SIG_BLOCK", "SIG_UNBLOCK", "SIG_SETMASK"}

var whences = []string{"SEEK_SET", "SEEK_CUR", "SEEK_END", "SEEK_DATA", "SEEK_HOLE"}

var clockIDs = []string{
	"CLOCK_REALTIME", "CLOCK_MONOTONIC", "CLOCK_PROCESS_CPUTIME_ID",
	"CLOCK_THREAD_CPUTIME_ID", "CLOCK_MONOTONIC_RAW", "CLOCK_REALTIME_COARSE",
	"CLOCK_MONOTONIC_COARSE", "CLOCK_BOOTTIME", "CLOCK_REALTIME_ALARM",
	"CLOCK_BOOTTIME_ALARM", "", "CLOCK_TAI",
}

const (
	futexCmdMask    = 0x7f
	futexPrivate    = 0x80
	futexClockRT    = 0x100
	futexWait       = 0
	futexWake       = 1
	futexWaitBitset = 9
)

var futexCmds = []string{
	"FUTEX_WAIT", "FUTEX_WAKE", "FUTEX_FD", "FUTEX_REQUEUE", "FUTEX_CMP_REQUEUE",
	"FUTEX_WAKE_OP", "FUTEX_LOCK_PI", "FUTEX_UNLOCK_PI", "FUTEX_TRYLOCK_PI",
	"FUTEX_WAIT_BITSET", "FUTEX_WAKE_BITSET", "FUTEX_WAIT_REQUEUE_PI",
	"FUTEX_CMP_REQUEUE_PI", "FUTEX_LOCK_PI2",
}

// futexTimed says which futex commands take a timeout as their fourth
// argument (the others take a count there).
func futexTimed(cmd uint64) bool {
	switch cmd {
	case futexWait, futexWaitBitset, 6, 11, 13: // LOCK_PI, WAIT_REQUEUE_PI, LOCK_PI2
		return true
	}
	return false
}

const (
	afUnix    = 1
	afInet    = 2
	afInet6   = 10
	afNetlink = 16
)

var families = []string{
	0: "AF_UNSPEC", 1: "AF_UNIX", 2: "AF_INET", 3: "AF_AX25", 4: "AF_IPX",
	5: "AF_APPLETALK", 7: "AF_BRIDGE", 10: "AF_INET6", 15: "AF_KEY",
	16: "AF_NETLINK", 17: "AF_PACKET", 29: "AF_CAN", 30: "AF_TIPC",
	31: "AF_BLUETOOTH", 38: "AF_ALG", 40: "AF_VSOCK", 44: "AF_XDP",
}

var sockTypes = []string{
	1: "SOCK_STREAM", 2: "SOCK_DGRAM", 3: "SOCK_RAW", 4: "SOCK_RDM",
	5: "SOCK_SEQPACKET", 6: "SOCK_DCCP", 10: "SOCK_PACKET",
}

var ipProtos = map[int64]string{
	0: "IPPROTO_IP", 1: "IPPROTO_ICMP", 2: "IPPROTO_IGMP", 6: "IPPROTO_TCP",
	17: "IPPROTO_UDP", 41: "IPPROTO_IPV6", 58: "IPPROTO_ICMPV6", 132: "IPPROTO_SCTP",
	136: "IPPROTO_UDPLITE", 255: "IPPROTO_RAW", 262: "IPPROTO_MPTCP",
}

var netlinkProtos = map[int64]string{
	0: "NETLINK_ROUTE", 4: "NETLINK_SOCK_DIAG", 9: "NETLINK_AUDIT",
	12: "NETLINK_NETFILTER", 15: "NETLINK_KOBJECT_UEVENT", 16: "NETLINK_GENERIC",
}

var ioctls = map[int64]string{
	0x5401: "TCGETS", 0x5402: "TCSETS", 0x5403: "TCSETSW", 0x5404: "TCSETSF",
	0x540A: "TCXONC", 0x540B: "TCFLSH", 0x540E: "TIOCSCTTY", 0x540F: "TIOCGPGRP",
	0x5410: "TIOCSPGRP", 0x5411: "TIOCOUTQ", 0x5413: "TIOCGWINSZ",
	0x5414: "TIOCSWINSZ", 0x5415: "TIOCMGET", 0x541B: "FIONREAD",
	0x5421: "FIONBIO", 0x5422: "TIOCNOTTY", 0x5450: "FIONCLEX", 0x5451: "FIOCLEX",
	0x5452: "FIOASYNC", 0x80045430: "TIOCGPTN", 0x40045431: "TIOCSPTLCK",
}

const (
	fDupfd        = 0
	fGetfd        = 1
	fSetfd        = 2
	fGetfl        = 3
	fSetfl        = 4
	fDupfdCloexec = 1030
)

var fcntlCmds = map[int64]string{
	0: "F_DUPFD", 1: "F_GETFD", 2: "F_SETFD", 3: "F_GETFL", 4: "F_SETFL",
	5: "F_GETLK", 6: "F_SETLK", 7: "F_SETLKW", 8: "F_SETOWN", 9: "F_GETOWN",
	10: "F_SETSIG", 11: "F_GETSIG", 15: "F_SETOWN_EX", 16: "F_GETOWN_EX",
	36: "F_OFD_GETLK", 37: "F_OFD_SETLK", 38: "F_OFD_SETLKW", 1024: "F_SETLEASE",
	1025: "F_GETLEASE", 1026: "F_NOTIFY", 1030: "F_DUPFD_CLOEXEC",
	1031: "F_SETPIPE_SZ", 1032: "F_GETPIPE_SZ", 1033: "F_ADD_SEALS", 1034: "F_GET_SEALS",
}

// fcntlNoArg are the commands strace shows without a third argument.
func fcntlNoArg(cmd int64) bool {
	switch cmd {
	case fGetfd, fGetfl, 9, 11, 1025, 1032, 1034: // GETOWN, GETSIG, GETLEASE, GETPIPE_SZ, GET_SEALS
		return true
	}
	return false
}

var archPrctls = map[int64]string{
	0x1001: "ARCH_SET_GS", 0x1002: "ARCH_SET_FS", 0x1003: "ARCH_GET_FS",
	0x1004: "ARCH_GET_GS", 0x1011: "ARCH_GET_CPUID", 0x1012: "ARCH_SET_CPUID",
}

var waitOptions = []flag{
	{1, "WNOHANG"},
	{2, "WUNTRACED"},
	{4, "WEXITED"},
	{8, "WCONTINUED"},
	{0x1000000, "WNOWAIT"},
	{0x20000000, "__WNOTHREAD"},
	{0x40000000, "__WALL"},
	{0x80000000, "__WCLONE"},
}

// fileTypes are the S_IF* values of a mode's type bits (mode >> 12).
var fileTypes = []string{
	0o01: "S_IFIFO", 0o02: "S_IFCHR", 0o04: "S_IFDIR", 0o06: "S_IFBLK",
	0o10: "S_IFREG", 0o12: "S_IFLNK", 0o14: "S_IFSOCK",
}

const saRestorer = 0x04000000

var saFlags = []flag{
	{1, "SA_NOCLDSTOP"},
	{2, "SA_NOCLDWAIT"},
	{4, "SA_SIGINFO"},
	{saRestorer, "SA_RESTORER"},
	{0x08000000, "SA_ONSTACK"},
	{0x10000000, "SA_RESTART"},
	{0x40000000, "SA_NODEFER"},
	{0x80000000, "SA_RESETHAND"},
}

// statxMask is in strace's order: the composite masks first.
var statxMask = []flag{
	{0xfff, "STATX_ALL"},
	{0x7ff, "STATX_BASIC_STATS"},
	{0x1, "STATX_TYPE"},
	{0x2, "STATX_MODE"},
	{0x4, "STATX_NLINK"},
	{0x8, "STATX_UID"},
	{0x10, "STATX_GID"},
	{0x20, "STATX_ATIME"},
	{0x40, "STATX_MTIME"},
	{0x80, "STATX_CTIME"},
	{0x100, "STATX_INO"},
	{0x200, "STATX_SIZE"},
	{0x400, "STATX_BLOCKS"},
	{0x800, "STATX_BTIME"},
	{0x1000, "STATX_MNT_ID"},
	{0x2000, "STATX_DIOALIGN"},
	{0x4000, "STATX_MNT_ID_UNIQUE"},
	{0x8000, "STATX_SUBVOL"},
	{0x10000, "STATX_WRITE_ATOMIC"},
}

var rlimits = []string{
	"RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE",
	"RLIMIT_RSS", "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS",
	"RLIMIT_LOCKS", "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE", "RLIMIT_NICE",
	"RLIMIT_RTPRIO", "RLIMIT_RTTIME",
}
