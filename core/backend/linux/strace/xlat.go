package strace

import "strconv"

// A flag is one named bit (or bit group) of a flags argument.
type flag struct {
	bits uint64
	name string
}

// appendFlags writes v as strace's printflags does: the names of its bits
// (flagNames); zero for a v of 0 ("0", or the name the table gives 0); and,
// when no name fits, v in hex with dflt in a comment: "0x40 /* MCL_??? */".
func appendFlags(dst []byte, v uint64, table []flag, zero, dflt string) []byte {
	if v == 0 {
		return append(dst, zero...)
	}
	start := len(dst)
	if dst = flagNames(dst, v, table); len(dst) == start {
		return appendUnknown(dst, v, dflt)
	}
	return dst
}

// flagNames writes the names of v's bits joined by '|' in the table's
// order, then any bits no name covers in hex; nothing if no name fits.
func flagNames(dst []byte, v uint64, table []flag) []byte {
	start := len(dst)
	for _, f := range table {
		if f.bits != 0 && v&f.bits == f.bits {
			dst = appendSep(dst, start)
			dst = append(dst, f.name...)
			v &^= f.bits
		}
	}
	if len(dst) > start && v != 0 {
		dst = append(dst, '|')
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

// appendXval writes the name of v from names, indexed by value, or, as
// strace's printxval does for a value it has no name for, v in hex with
// dflt in a comment: "0x1a /* MADV_??? */".
func appendXval(dst []byte, v uint64, names []string, dflt string) []byte {
	if v < uint64(len(names)) && names[v] != "" {
		return append(dst, names[v]...)
	}
	return appendUnknown(dst, v, dflt)
}

// appendXvalMap is appendXval for names too sparse for a slice.
func appendXvalMap(dst []byte, v uint64, names map[uint64]string, dflt string) []byte {
	if n, ok := names[v]; ok {
		return append(dst, n...)
	}
	return appendUnknown(dst, v, dflt)
}

func appendUnknown(dst []byte, v uint64, dflt string) []byte {
	dst = appendHex(dst, v)
	if dflt != "" {
		dst = appendComment(dst, dflt)
	}
	return dst
}

// appendComment writes strace's comment: " /* text */".
func appendComment(dst []byte, text string) []byte {
	dst = append(dst, " /* "...)
	dst = append(dst, text...)
	return append(dst, " */"...)
}

// flagName returns the name table gives exactly v, or "": the lookup of a
// value in a table of flags, which strace makes for a few commands.
func flagName(v uint64, table []flag) string {
	for _, f := range table {
		if f.bits == v {
			return f.name
		}
	}
	return ""
}

// lookup returns the name of v from names, or "".
func lookup(v uint64, names []string) string {
	if v < uint64(len(names)) {
		return names[v]
	}
	return ""
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
	{0x8000, "AT_RECURSIVE"},
}

// statxSync are statx's AT_STATX_SYNC_TYPE values, which strace shows
// apart from its other AT_ flags.
const statxSyncType = 0x6000

var statxSync = []flag{{0x2000, "AT_STATX_FORCE_SYNC"}, {0x4000, "AT_STATX_DONT_SYNC"}}

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

var unshareFlags = []flag{
	{0x80, "CLONE_NEWTIME"},
	{0x100, "CLONE_VM"},
	{0x200, "CLONE_FS"},
	{0x400, "CLONE_FILES"},
	{0x800, "CLONE_SIGHAND"},
	{0x10000, "CLONE_THREAD"},
	{0x20000, "CLONE_NEWNS"},
	{0x40000, "CLONE_SYSVSEM"},
	{0x2000000, "CLONE_NEWCGROUP"},
	{0x4000000, "CLONE_NEWUTS"},
	{0x8000000, "CLONE_NEWIPC"},
	{0x10000000, "CLONE_NEWUSER"},
	{0x20000000, "CLONE_NEWPID"},
	{0x40000000, "CLONE_NEWNET"},
}

var setnsTypes = []flag{
	{0x80, "CLONE_NEWTIME"},
	{0x20000, "CLONE_NEWNS"},
	{0x2000000, "CLONE_NEWCGROUP"},
	{0x4000000, "CLONE_NEWUTS"},
	{0x8000000, "CLONE_NEWIPC"},
	{0x10000000, "CLONE_NEWUSER"},
	{0x20000000, "CLONE_NEWPID"},
	{0x40000000, "CLONE_NEWNET"},
}

// cloneFlags is strace's clone_flags: CLONE_DETACHED, which the kernel
// ignores, has no name.
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

// clone3Flags adds the flags of clone3 alone (strace's clone3_flags), which
// clone's flags have no room for.
var clone3Flags = append(cloneFlags[:len(cloneFlags):len(cloneFlags)],
	flag{0x80, "CLONE_NEWTIME"},
	flag{1 << 32, "CLONE_CLEAR_SIGHAND"},
	flag{1 << 33, "CLONE_INTO_CGROUP"},
)

const (
	cloneCSignal       = 0xff
	clonePidfd         = 0x1000
	cloneSettls        = 0x80000
	cloneParentSettid  = 0x100000
	cloneChildCleartid = 0x200000
	cloneChildSettid   = 0x1000000
	cloneIntoCgroup    = 1 << 33
)

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
	"CLOCK_BOOTTIME_ALARM", "CLOCK_SGI_CYCLE", "CLOCK_TAI",
}

const (
	futexCmdMask    = 0x7f
	futexPrivate    = 0x80
	futexClockRT    = 0x100
	futexWait       = 0
	futexWake       = 1
	futexWaitBitset = 9
	futexWakeBitset = 10
)

// futexReg is the register of futex's shown argument i: under the *_BITSET
// commands strace leaves uaddr2 out and shows val3 (the bitset) last.
func futexReg(op uint64, i int) int {
	switch op & futexCmdMask {
	case futexWaitBitset:
		if i == 4 {
			return 5
		}
	case futexWakeBitset:
		if i == 3 {
			return 5
		}
	}
	return i
}

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
	"AF_UNSPEC", "AF_UNIX", "AF_INET", "AF_AX25", "AF_IPX", "AF_APPLETALK",
	"AF_NETROM", "AF_BRIDGE", "AF_ATMPVC", "AF_X25", "AF_INET6", "AF_ROSE",
	"AF_DECnet", "AF_NETBEUI", "AF_SECURITY", "AF_KEY", "AF_NETLINK",
	"AF_PACKET", "AF_ASH", "AF_ECONET", "AF_ATMSVC", "AF_RDS", "AF_SNA",
	"AF_IRDA", "AF_PPPOX", "AF_WANPIPE", "AF_LLC", "AF_IB", "AF_MPLS",
	"AF_CAN", "AF_TIPC", "AF_BLUETOOTH", "AF_IUCV", "AF_RXRPC", "AF_ISDN",
	"AF_PHONET", "AF_IEEE802154", "AF_CAIF", "AF_ALG", "AF_NFC", "AF_VSOCK",
	"AF_KCM", "AF_QIPCRTR", "AF_SMC", "AF_XDP", "AF_MCTP",
}

// sockLevels are setsockopt's and getsockopt's levels: strace 6.1's
// socketlayers, AF_VSOCK's name for 40 included.
var sockLevels = map[uint64]string{
	0: "SOL_IP", 1: "SOL_SOCKET", 6: "SOL_TCP", 17: "SOL_UDP", 40: "AF_VSOCK", 41: "SOL_IPV6",
	58: "SOL_ICMPV6", 100: "SOL_CAN_BASE", 101: "SOL_CAN_RAW", 132: "SOL_SCTP", 136: "SOL_UDPLITE", 255: "SOL_RAW",
	256: "SOL_IPX", 257: "SOL_AX25", 258: "SOL_ATALK", 259: "SOL_NETROM",
	260: "SOL_ROSE", 261: "SOL_DECNET", 262: "SOL_X25", 263: "SOL_PACKET",
	264: "SOL_ATM", 265: "SOL_AAL", 266: "SOL_IRDA", 267: "SOL_NETBEUI",
	268: "SOL_LLC", 269: "SOL_DCCP", 270: "SOL_NETLINK", 271: "SOL_TIPC",
	272: "SOL_RXRPC", 273: "SOL_PPPOL2TP", 274: "SOL_BLUETOOTH", 275: "SOL_PNPIPE",
	276: "SOL_RDS", 277: "SOL_IUCV", 278: "SOL_CAIF", 279: "SOL_ALG",
	280: "SOL_NFC", 281: "SOL_KCM", 282: "SOL_TLS", 283: "SOL_XDP",
}

const (
	solSocket = 1
	solTCP    = 6
	soLinger  = 13
)

// sockOptions are the options of level SOL_SOCKET (asm-generic/socket.h).
var sockOptions = []string{
	1: "SO_DEBUG", 2: "SO_REUSEADDR", 3: "SO_TYPE", 4: "SO_ERROR", 5: "SO_DONTROUTE",
	6: "SO_BROADCAST", 7: "SO_SNDBUF", 8: "SO_RCVBUF", 9: "SO_KEEPALIVE",
	10: "SO_OOBINLINE", 11: "SO_NO_CHECK", 12: "SO_PRIORITY", 13: "SO_LINGER",
	14: "SO_BSDCOMPAT", 15: "SO_REUSEPORT", 16: "SO_PASSCRED", 17: "SO_PEERCRED",
	18: "SO_RCVLOWAT", 19: "SO_SNDLOWAT", 20: "SO_RCVTIMEO_OLD", 21: "SO_SNDTIMEO_OLD",
	22: "SO_SECURITY_AUTHENTICATION", 23: "SO_SECURITY_ENCRYPTION_TRANSPORT",
	24: "SO_SECURITY_ENCRYPTION_NETWORK", 25: "SO_BINDTODEVICE", 26: "SO_ATTACH_FILTER",
	27: "SO_DETACH_FILTER", 28: "SO_PEERNAME", 29: "SO_TIMESTAMP_OLD", 30: "SO_ACCEPTCONN",
	31: "SO_PEERSEC", 32: "SO_SNDBUFFORCE", 33: "SO_RCVBUFFORCE", 34: "SO_PASSSEC",
	35: "SO_TIMESTAMPNS_OLD", 36: "SO_MARK", 37: "SO_TIMESTAMPING_OLD", 38: "SO_PROTOCOL",
	39: "SO_DOMAIN", 40: "SO_RXQ_OVFL", 41: "SO_WIFI_STATUS", 42: "SO_PEEK_OFF",
	43: "SO_NOFCS", 44: "SO_LOCK_FILTER", 45: "SO_SELECT_ERR_QUEUE", 46: "SO_BUSY_POLL",
	47: "SO_MAX_PACING_RATE", 48: "SO_BPF_EXTENSIONS", 49: "SO_INCOMING_CPU",
	50: "SO_ATTACH_BPF", 51: "SO_ATTACH_REUSEPORT_CBPF", 52: "SO_ATTACH_REUSEPORT_EBPF",
	53: "SO_CNX_ADVICE", 55: "SO_MEMINFO", 56: "SO_INCOMING_NAPI_ID", 57: "SO_COOKIE",
	59: "SO_PEERGROUPS", 60: "SO_ZEROCOPY", 61: "SO_TXTIME", 62: "SO_BINDTOIFINDEX",
	63: "SO_TIMESTAMP_NEW", 64: "SO_TIMESTAMPNS_NEW", 65: "SO_TIMESTAMPING_NEW",
	66: "SO_RCVTIMEO_NEW", 67: "SO_SNDTIMEO_NEW", 68: "SO_DETACH_REUSEPORT_BPF",
	69: "SO_PREFER_BUSY_POLL", 70: "SO_BUSY_POLL_BUDGET", 71: "SO_NETNS_COOKIE",
	72: "SO_BUF_LOCK", 73: "SO_RESERVE_MEM", 74: "SO_TXREHASH", 75: "SO_RCVMARK",
}

// tcpOptions are the options of level SOL_TCP (linux/tcp.h).
var tcpOptions = []string{
	1: "TCP_NODELAY", 2: "TCP_MAXSEG", 3: "TCP_CORK", 4: "TCP_KEEPIDLE", 5: "TCP_KEEPINTVL",
	6: "TCP_KEEPCNT", 7: "TCP_SYNCNT", 8: "TCP_LINGER2", 9: "TCP_DEFER_ACCEPT",
	10: "TCP_WINDOW_CLAMP", 11: "TCP_INFO", 12: "TCP_QUICKACK", 13: "TCP_CONGESTION",
	14: "TCP_MD5SIG", 15: "TCP_COOKIE_TRANSACTIONS", 16: "TCP_THIN_LINEAR_TIMEOUTS",
	17: "TCP_THIN_DUPACK", 18: "TCP_USER_TIMEOUT", 19: "TCP_REPAIR", 20: "TCP_REPAIR_QUEUE",
	21: "TCP_QUEUE_SEQ", 22: "TCP_REPAIR_OPTIONS", 23: "TCP_FASTOPEN", 24: "TCP_TIMESTAMP",
	25: "TCP_NOTSENT_LOWAT", 26: "TCP_CC_INFO", 27: "TCP_SAVE_SYN", 28: "TCP_SAVED_SYN",
	29: "TCP_REPAIR_WINDOW", 30: "TCP_FASTOPEN_CONNECT", 31: "TCP_ULP", 32: "TCP_MD5SIG_EXT",
	33: "TCP_FASTOPEN_KEY", 34: "TCP_FASTOPEN_NO_COOKIE", 35: "TCP_ZEROCOPY_RECEIVE",
	36: "TCP_INQ", 37: "TCP_TX_DELAY",
}

var sockTypes = []string{
	1: "SOCK_STREAM", 2: "SOCK_DGRAM", 3: "SOCK_RAW", 4: "SOCK_RDM",
	5: "SOCK_SEQPACKET", 6: "SOCK_DCCP", 10: "SOCK_PACKET",
}

var ipProtos = map[uint64]string{
	0: "IPPROTO_IP", 1: "IPPROTO_ICMP", 2: "IPPROTO_IGMP", 4: "IPPROTO_IPIP",
	6: "IPPROTO_TCP", 8: "IPPROTO_EGP", 12: "IPPROTO_PUP", 17: "IPPROTO_UDP",
	22: "IPPROTO_IDP", 29: "IPPROTO_TP", 33: "IPPROTO_DCCP", 41: "IPPROTO_IPV6",
	43: "IPPROTO_ROUTING", 44: "IPPROTO_FRAGMENT", 46: "IPPROTO_RSVP",
	47: "IPPROTO_GRE", 50: "IPPROTO_ESP", 51: "IPPROTO_AH", 58: "IPPROTO_ICMPV6",
	59: "IPPROTO_NONE", 60: "IPPROTO_DSTOPTS", 92: "IPPROTO_MTP",
	94: "IPPROTO_BEETPH", 98: "IPPROTO_ENCAP", 103: "IPPROTO_PIM",
	108: "IPPROTO_COMP", 115: "IPPROTO_L2TP", 132: "IPPROTO_SCTP",
	135: "IPPROTO_MH", 136: "IPPROTO_UDPLITE", 137: "IPPROTO_MPLS",
	143: "IPPROTO_ETHERNET", 255: "IPPROTO_RAW", 262: "IPPROTO_MPTCP",
}

var netlinkProtos = []string{
	"NETLINK_ROUTE", "NETLINK_UNUSED", "NETLINK_USERSOCK", "NETLINK_FIREWALL",
	"NETLINK_SOCK_DIAG", "NETLINK_NFLOG", "NETLINK_XFRM", "NETLINK_SELINUX",
	"NETLINK_ISCSI", "NETLINK_AUDIT", "NETLINK_FIB_LOOKUP", "NETLINK_CONNECTOR",
	"NETLINK_NETFILTER", "NETLINK_IP6_FW", "NETLINK_DNRTMSG",
	"NETLINK_KOBJECT_UEVENT", "NETLINK_GENERIC", "", "NETLINK_SCSITRANSPORT",
	"NETLINK_ECRYPTFS", "NETLINK_RDMA", "NETLINK_CRYPTO", "NETLINK_SMC",
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

var fcntlCmds = map[uint64]string{
	0: "F_DUPFD", 1: "F_GETFD", 2: "F_SETFD", 3: "F_GETFL", 4: "F_SETFL",
	5: "F_GETLK", 6: "F_SETLK", 7: "F_SETLKW", 8: "F_SETOWN", 9: "F_GETOWN",
	10: "F_SETSIG", 11: "F_GETSIG", 15: "F_SETOWN_EX", 16: "F_GETOWN_EX",
	17: "F_GETOWNER_UIDS", 36: "F_OFD_GETLK", 37: "F_OFD_SETLK", 38: "F_OFD_SETLKW",
	1024: "F_SETLEASE", 1025: "F_GETLEASE", 1026: "F_NOTIFY", 1029: "F_CANCELLK",
	1030: "F_DUPFD_CLOEXEC",
	1031: "F_SETPIPE_SZ", 1032: "F_GETPIPE_SZ", 1033: "F_ADD_SEALS", 1034: "F_GET_SEALS",
}

// fdFlags are the descriptor flags of F_GETFD's result.
var fdFlags = []flag{{1, "FD_CLOEXEC"}}

// fcntlNoArg are the commands strace shows without a third argument.
func fcntlNoArg(cmd int64) bool {
	switch cmd {
	case fGetfd, fGetfl, 9, 11, 1025, 1032, 1034: // GETOWN, GETSIG, GETLEASE, GETPIPE_SZ, GET_SEALS
		return true
	}
	return false
}

const (
	archGetFS    = 0x1003
	archGetGS    = 0x1004
	archGetCPUID = 0x1011
)

var archPrctls = map[uint64]string{
	0x1001: "ARCH_SET_GS", 0x1002: "ARCH_SET_FS", 0x1003: "ARCH_GET_FS",
	0x1004: "ARCH_GET_GS", 0x1011: "ARCH_GET_CPUID", 0x1012: "ARCH_SET_CPUID",
	0x1021: "ARCH_GET_XCOMP_SUPP", 0x1022: "ARCH_GET_XCOMP_PERM",
	0x1023: "ARCH_REQ_XCOMP_PERM", 0x1024: "ARCH_GET_XCOMP_GUEST_PERM",
	0x1025: "ARCH_REQ_XCOMP_GUEST_PERM", 0x2001: "ARCH_MAP_VDSO_X32",
	0x2002: "ARCH_MAP_VDSO_32", 0x2003: "ARCH_MAP_VDSO_64",
}

// waitOptions is in strace's order; 2 is WSTOPPED, glibc's name for
// WUNTRACED, which strace prefers.
var waitOptions = []flag{
	{1, "WNOHANG"},
	{4, "WEXITED"},
	{2, "WSTOPPED"},
	{8, "WCONTINUED"},
	{0x1000000, "WNOWAIT"},
	{0x80000000, "__WCLONE"},
	{0x40000000, "__WALL"},
	{0x20000000, "__WNOTHREAD"},
}

// fileTypes are the S_IF* values of a mode's type bits (mode >> 12).
var fileTypes = []string{
	0o01: "S_IFIFO", 0o02: "S_IFCHR", 0o04: "S_IFDIR", 0o06: "S_IFBLK",
	0o10: "S_IFREG", 0o12: "S_IFLNK", 0o14: "S_IFSOCK",
}

const saRestorer = 0x04000000

// saFlags is in strace's order (xlat/sigact_flags.in), glibc's
// SA_INTERRUPT included.
var saFlags = []flag{
	{saRestorer, "SA_RESTORER"},
	{0x08000000, "SA_ONSTACK"},
	{0x10000000, "SA_RESTART"},
	{0x20000000, "SA_INTERRUPT"},
	{0x40000000, "SA_NODEFER"},
	{0x80000000, "SA_RESETHAND"},
	{4, "SA_SIGINFO"},
	{1, "SA_NOCLDSTOP"},
	{2, "SA_NOCLDWAIT"},
}

// statxMask is strace 6.1's, in its order: the composite masks first.
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
}

var rlimits = []string{
	"RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE",
	"RLIMIT_RSS", "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS",
	"RLIMIT_LOCKS", "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE", "RLIMIT_NICE",
	"RLIMIT_RTPRIO", "RLIMIT_RTTIME",
}

var shutdownHows = []string{"SHUT_RD", "SHUT_WR", "SHUT_RDWR"}

var madvices = []string{
	0: "MADV_NORMAL", 1: "MADV_RANDOM", 2: "MADV_SEQUENTIAL", 3: "MADV_WILLNEED",
	4: "MADV_DONTNEED", 8: "MADV_FREE", 9: "MADV_REMOVE", 10: "MADV_DONTFORK",
	11: "MADV_DOFORK", 12: "MADV_MERGEABLE", 13: "MADV_UNMERGEABLE",
	14: "MADV_HUGEPAGE", 15: "MADV_NOHUGEPAGE", 16: "MADV_DONTDUMP",
	17: "MADV_DODUMP", 18: "MADV_WIPEONFORK", 19: "MADV_KEEPONFORK",
	20: "MADV_COLD", 21: "MADV_PAGEOUT", 22: "MADV_POPULATE_READ",
	23: "MADV_POPULATE_WRITE", 24: "MADV_DONTNEED_LOCKED", 25: "MADV_COLLAPSE",
	100: "MADV_HWPOISON", 101: "MADV_SOFT_OFFLINE",
}

var grndFlags = []flag{{1, "GRND_NONBLOCK"}, {2, "GRND_RANDOM"}, {4, "GRND_INSECURE"}}

var clockFlags = []flag{{1, "TIMER_ABSTIME"}}

var mlockFlags = []flag{{1, "MLOCK_ONFAULT"}}

var mlockallFlags = []flag{{1, "MCL_CURRENT"}, {2, "MCL_FUTURE"}, {4, "MCL_ONFAULT"}}

var msyncFlags = []flag{{4, "MS_SYNC"}, {1, "MS_ASYNC"}, {2, "MS_INVALIDATE"}}

const (
	mremapMaymove = 1
	mremapFixed   = 2
)

var mremapFlags = []flag{{mremapMaymove, "MREMAP_MAYMOVE"}, {mremapFixed, "MREMAP_FIXED"}, {4, "MREMAP_DONTUNMAP"}}

// membarrierCmds are flags to strace: MEMBARRIER_CMD_QUERY answers with a
// set of them.
var membarrierCmds = []flag{
	{0, "MEMBARRIER_CMD_QUERY"},
	{1 << 0, "MEMBARRIER_CMD_GLOBAL"},
	{1 << 1, "MEMBARRIER_CMD_GLOBAL_EXPEDITED"},
	{1 << 2, "MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED"},
	{1 << 3, "MEMBARRIER_CMD_PRIVATE_EXPEDITED"},
	{1 << 4, "MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED"},
	{1 << 5, "MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE"},
	{1 << 6, "MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE"},
	{1 << 7, "MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ"},
	{1 << 8, "MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ"},
}

const membarrierFlagCPU = 1

var membarrierFlags = []flag{{membarrierFlagCPU, "MEMBARRIER_CMD_FLAG_CPU"}}

// flockOps are flock's operations, in strace's order (LOCK_RW before its
// two bits).
var flockOps = []flag{
	{1, "LOCK_SH"},
	{2, "LOCK_EX"},
	{4, "LOCK_NB"},
	{8, "LOCK_UN"},
	{32, "LOCK_MAND"},
	{192, "LOCK_RW"},
	{64, "LOCK_READ"},
	{128, "LOCK_WRITE"},
}

// Values and flags strace names, from its xlat tables of the same names.
var (
	prioWhich     = []string{"PRIO_PROCESS", "PRIO_PGRP", "PRIO_USER"}
	itimerWhich   = []string{"ITIMER_REAL", "ITIMER_VIRTUAL", "ITIMER_PROF"}
	schedPolicies = []string{"SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE", "SCHED_DEADLINE"}
	xattrFlags    = []flag{{1, "XATTR_CREATE"}, {2, "XATTR_REPLACE"}}
	renameFlags   = []flag{{1, "RENAME_NOREPLACE"}, {2, "RENAME_EXCHANGE"}, {4, "RENAME_WHITEOUT"}}
)
