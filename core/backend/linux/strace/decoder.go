package strace

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"

	"nitro/core/backend"
	"nitro/internal/escape"
)

// Memory reads the user memory of the process that made the call.
type Memory interface {
	// ReadVirt fills p from guest-virtual address va, which may span pages.
	// An error (an unmapped page, a broken page table) is normal for a
	// hostile or careless guest: the argument is then shown as its pointer.
	ReadVirt(p []byte, va uint64) error
}

// Options bound how much of the guest's memory an argument shows.
type Options struct {
	StringLimit int // bytes of a string or buffer shown (strace -s); 0 means DefaultStringLimit
	PathLimit   int // bytes of a path shown; 0 means DefaultPathLimit (PATH_MAX - 1)
	ArrayLimit  int // elements of an array (argv, iovec) shown; 0 means DefaultArrayLimit
}

// Defaults are strace's: -s 32 for strings and arrays, whole paths.
const (
	DefaultStringLimit = 32
	// PATH_MAX - 1, as strace's printpath: it reads one byte more, PATH_MAX
	// in all, to see the NUL.
	DefaultPathLimit  = 4095
	DefaultArrayLimit = 32
	// MaxLimit caps each limit: however large the lengths and counts a guest
	// passes, what one call reads of its memory stays bounded by the limits.
	MaxLimit = 1 << 16
)

const (
	pageSize      = 4096
	strChunk      = 256  // bytes read at a time while looking for a string's NUL
	envCountLimit = 4096 // envp entries counted before giving up
	sockaddrMax   = 128  // sizeof(struct sockaddr_storage)
	statSize      = 144  // sizeof(struct stat) on x86-64
	stat64Size    = 96   // sizeof(struct stat64) on i386
	statxSize     = 256  // sizeof(struct statx)
	direntsMax    = 1 << 16
	utsFieldLen   = 65
	atFDCWD       = -100
)

// A Decoder turns system call registers and memory into strace-style
// arguments. It keeps scratch buffers, so it is not safe for concurrent use:
// use one per goroutine (per vCPU, say).
type Decoder struct {
	opts Options
	text []byte // the argument being written
	str  []byte // a string read from the guest
	raw  []byte // fixed-size structures read from the guest
}

// NewDecoder returns a Decoder with opts' limits, defaults filled in and
// each capped at MaxLimit.
func NewDecoder(opts Options) *Decoder {
	opts.StringLimit = limit(opts.StringLimit, DefaultStringLimit)
	opts.PathLimit = limit(opts.PathLimit, DefaultPathLimit)
	opts.ArrayLimit = limit(opts.ArrayLimit, DefaultArrayLimit)
	return &Decoder{
		opts: opts,
		str:  make([]byte, max(opts.StringLimit, opts.PathLimit)+1),
		raw:  make([]byte, 0, 512),
	}
}

func limit(v, def int) int {
	if v <= 0 {
		return def
	}
	return min(v, MaxLimit)
}

// call is one call being decoded.
type call struct {
	tab  *Syscalls
	e    *sysent // the call's entry in tab, nil when tab has no call nr
	nr   uint64
	args [6]uint64
	ret  int64
	done bool // at exit, without an error: the call's out-arguments are readable
	exit bool // at exit, whatever the result
	mem  Memory
}

// newCall starts decoding call nr of sc.ABI. An i386 call's number and
// arguments are the low 32 bits of their registers, as the kernel reads
// them.
func newCall(sc *backend.Syscall, nr uint64, args [6]uint64, mem Memory) call {
	t := For(sc.ABI)
	if t.i386 {
		nr = t.word(nr)
		for i := range args {
			args[i] = t.word(args[i])
		}
	}
	return call{tab: t, e: t.lookup(nr), nr: nr, args: args, mem: mem}
}

// name is the call's name, or "syscall_N" when its table has no call nr.
func (c *call) name() string {
	if c.e != nil {
		return c.e.name
	}
	return c.tab.Name(c.nr)
}

// Enter decodes call nr at entry into sc's Nr, Name and Args, with the
// table and register sizes of sc.ABI. Arguments the call writes are shown
// as their pointers.
func (d *Decoder) Enter(sc *backend.Syscall, nr uint64, args [6]uint64, mem Memory) {
	c := newCall(sc, nr, args, mem)
	sc.Nr, sc.Name = c.nr, c.name()
	sc.Args = d.decode(&c, nil)
	sc.Ret, sc.Errno = 0, ""
}

// Exit decodes call nr at exit into sc's Nr, Name, Args, Ret and Errno,
// with the table and register sizes of sc.ABI. ret is rax as the kernel
// returned it, kept in sc.Ret (for i386 its low 32 bits, sign-extended,
// are the result or error: Result reads them so). args are the
// argument registers of the entry (the kernel keeps them across the call,
// so the exit's registers serve when the entry was not seen). entry are the
// arguments Enter decoded, or nil: their text is kept, so what the call
// read is shown as it was before the call, and only what it wrote is
// decoded now.
func (d *Decoder) Exit(sc *backend.Syscall, nr uint64, args [6]uint64, ret uint64, mem Memory, entry []backend.Arg) {
	c := newCall(sc, nr, args, mem)
	r := c.tab.ret(ret)
	errno := errnoOf(r)
	c.ret, c.done, c.exit = r, errno == 0, true
	sc.Nr, sc.Name = c.nr, c.name()
	sc.Args = d.decode(&c, entry)
	sc.Ret, sc.Errno = int64(ret), ""
	if errno != 0 {
		sc.Errno = ErrnoName(errno)
	}
}

func (d *Decoder) decode(c *call, entry []backend.Arg) []backend.Arg {
	e := c.e
	if e == nil {
		// An unknown call: all six registers, as strace shows them.
		out := make([]backend.Arg, len(c.args))
		for i, v := range c.args {
			out[i] = backend.Arg{Raw: v, Text: d.finish(appendHex(d.text[:0], v))}
		}
		return out
	}
	switch e.sp {
	case spClone:
		return d.clone(c)
	case spRtSigreturn, spSigreturn:
		return d.sigreturn(c, entry)
	}
	n := shown(e, &c.args)
	out := make([]backend.Arg, n)
	for i := range n {
		r := i // the register shown as argument i
		if e.sp == spFutex {
			r = futexReg(c.args[1], i)
		}
		k := kindAt(e, r, &c.args)
		if entry != nil && i < len(entry) && !k.out() && entry[i].Raw == c.args[r] && !unread(entry[i]) {
			out[i] = entry[i]
			continue
		}
		out[i] = backend.Arg{Raw: c.args[r], Text: d.argText(c, r, k), Out: k.out()}
		if k == kSocklenPtr && c.done && i < len(entry) {
			out[i].Text = socklenChange(entry[i].Text, out[i].Text)
		}
	}
	return out
}

// socklenChange is a socklen_t the call changed as strace shows it: the
// length it was given, then the one it set, "[110 => 21]".
func socklenChange(in, out string) string {
	if in == out || !strings.HasPrefix(in, "[") || !strings.HasPrefix(out, "[") {
		return out
	}
	return strings.TrimSuffix(in, "]") + " => " + out[1:]
}

// unread says whether an argument shows as its bare pointer, as when the
// memory it points to was not mapped at entry: a fresh program's strings
// are often paged in only by the call itself, so the exit tries again.
func unread(a backend.Arg) bool {
	hex, ok := strings.CutPrefix(a.Text, "0x")
	if !ok || a.Raw == 0 {
		return false
	}
	v, err := strconv.ParseUint(hex, 16, 64)
	return err == nil && v == a.Raw
}

// A mode's file type bits, and the two types with a device (mknod's).
const (
	sIFMT  = 0o170000
	sIFCHR = 0o020000
	sIFBLK = 0o060000
)

// shown is how many arguments strace shows for the call; a few calls show
// fewer depending on the command they carry.
func shown(e *sysent, a *[6]uint64) int {
	switch e.sp {
	case spOpen:
		// The mode means something only when the call may create a file.
		flags := a[len(e.args)-2]
		if flags&(oCreat|oTmpfile) == 0 {
			return len(e.args) - 1
		}
	case spFcntl:
		if fcntlNoArg(int64(int32(a[1]))) {
			return 2
		}
	case spFutex:
		switch a[1] & futexCmdMask {
		case futexWake:
			return 3
		case futexWait, futexWakeBitset:
			return 4
		case futexWaitBitset:
			return 5
		}
	case spPrctl:
		return prctlShown(uint32(a[0]), a[1])
	case spMembarrier:
		if a[1]&membarrierFlagCPU == 0 { // the cpu is read only with this flag
			return 2
		}
	case spMremap:
		if a[3]&(mremapMaymove|mremapFixed) != mremapMaymove|mremapFixed {
			return 4 // the new address is read only with both flags
		}
	case spArchPrctl:
		if uint32(a[0]) == archGetCPUID {
			return 1
		}
	case spMqOpen:
		// The mode and attributes are read only with O_CREAT.
		if a[1]&oCreat == 0 {
			return 2
		}
	case spMknod:
		// The device means something only for a device file.
		if t := uint16(a[len(e.args)-2]) & sIFMT; t != sIFCHR && t != sIFBLK {
			return len(e.args) - 1
		}
	}
	return len(e.args)
}

// kindAt is the kind of argument i, for the calls where it depends on
// another argument's value.
func kindAt(e *sysent, i int, a *[6]uint64) kind {
	switch e.sp {
	case spFcntl:
		if i == 2 {
			switch int32(a[1]) {
			case fDupfd, fDupfdCloexec:
				return kFd
			case fSetfd:
				return kFdFlags
			case fSetfl:
				return kOpenFlags
			}
		}
	case spFutex:
		if i == 3 && !futexTimed(a[1]&futexCmdMask) {
			return kUint
		}
		if cmd := a[1] & futexCmdMask; i == 5 && (cmd == futexWaitBitset || cmd == futexWakeBitset) {
			return kFutexBitset
		}
	case spPrctl:
		if i > 0 {
			return prctlKind(uint32(a[0]), i, a)
		}
	case spClockNanosleep:
		if i == 3 && a[1] != 0 {
			return kPtr // an absolute time leaves no remainder to write
		}
	case spArchPrctl:
		if op := uint32(a[0]); i == 1 && (op == archGetFS || op == archGetGS) {
			return kKptrOut
		}
	}
	return e.args[i]
}

// finish turns the argument written into b (d.text's storage) into its text.
func (d *Decoder) finish(b []byte) string {
	d.text = b[:0]
	return string(b)
}

func (d *Decoder) argText(c *call, i int, k kind) string {
	if s, ok := plain(c, i, k); ok {
		return s // no scratch buffer: strconv returns small numbers without allocating
	}
	return d.finish(d.appendArg(d.text[:0], c, i, k))
}

// plain returns the text of argument i when it is a bare number or
// pointer: of kind a number, or written by the call that has not (or not
// successfully) run yet.
func plain(c *call, i int, k kind) (string, bool) {
	v := c.args[i]
	if k.out() && !k.bothWays() && !c.wrote(k) {
		return ptrText(v), true
	}
	switch k {
	case kInt, kFd:
		return strconv.FormatInt(int64(int32(v)), 10), true
	case kLong:
		return strconv.FormatInt(int64(v), 10), true
	case kUint:
		return strconv.FormatUint(uint64(uint32(v)), 10), true
	case kUid:
		if uint32(v) == ^uint32(0) {
			return "-1", true
		}
		return strconv.FormatUint(uint64(uint32(v)), 10), true
	case kUlong:
		return strconv.FormatUint(v, 10), true
	case kPtr:
		return ptrText(v), true
	case kDirFd:
		if int32(v) == atFDCWD {
			return "AT_FDCWD", true
		}
		return strconv.FormatInt(int64(int32(v)), 10), true
	}
	return "", false
}

// wrote says whether the call has written its out-argument of kind k: it
// has if it succeeded, but for nanosleep's remainder, which the kernel
// writes only when a signal interrupts the sleep (strace shows it then
// only, the rest of the time it is stack garbage).
func (c *call) wrote(k kind) bool {
	if k == kRemTimespec || k == kRemTimespec32 {
		return erestart(errnoOf(c.ret))
	}
	return c.done
}

func ptrText(v uint64) string {
	if v == 0 {
		return "NULL"
	}
	return "0x" + strconv.FormatUint(v, 16)
}

func appendPtr(dst []byte, v uint64) []byte {
	if v == 0 {
		return append(dst, "NULL"...)
	}
	return appendHex(dst, v)
}

// next returns argument i+1, which some kinds use as a length or count.
func (c *call) next(i int) uint64 {
	if i+1 < len(c.args) {
		return c.args[i+1]
	}
	return 0
}

// sigsetSize is the size argument that goes with a signal set at i: the
// first unsigned argument after it (rt_sigprocmask's after both sets).
func (c *call) sigsetSize(i int) (uint64, bool) {
	for j := i + 1; j < len(c.e.args); j++ {
		if k := c.e.args[j]; k == kUlong || k == kUint {
			return c.args[j], true
		}
	}
	return 0, false
}

func (d *Decoder) appendArg(dst []byte, c *call, i int, k kind) []byte {
	if s, ok := plain(c, i, k); ok {
		return append(dst, s...)
	}
	v := c.args[i]
	switch k {
	case kHex:
		return appendHex(dst, v)
	case kPath, kCwdOut:
		return d.appendCString(dst, c.mem, v, d.opts.PathLimit)
	case kStr:
		return d.appendCString(dst, c.mem, v, d.opts.StringLimit)
	case kInBuf:
		return d.appendBuf(dst, c.mem, v, c.next(i))
	case kOutBuf:
		return d.appendBuf(dst, c.mem, v, uint64(c.ret))
	case kOpenFlags:
		return appendOpenFlags(dst, uint64(uint32(v)))
	case kMode: // an unsigned short to strace (mknod's)
		return appendMode(dst, uint64(uint16(v)))
	case kUmode:
		return appendOctal(dst, uint64(uint16(v)))
	case kAtFlags:
		return appendFlags(dst, uint64(uint32(v)), atFlags, "0", "AT_???")
	case kAccess:
		return appendFlags(dst, uint64(uint32(v)), accessFlags, "F_OK", "?_OK")
	case kProt:
		return appendFlags(dst, v, protFlags, "PROT_NONE", "PROT_???")
	case kMapFlags:
		return appendMapFlags(dst, v)
	case kUnshareFlags:
		return appendFlags(dst, v, unshareFlags, "0", "CLONE_???")
	case kSetnsType:
		return appendFlags(dst, uint64(uint32(v)), setnsTypes, "0", "CLONE_NEW???")
	case kSignal:
		return appendSignal(dst, int64(int32(v)), true)
	case kSigHow:
		return appendXval(dst, uint64(uint32(v)), sigHows, "SIG_???")
	case kFutexOp:
		return appendFutexOp(dst, uint64(uint32(v)))
	case kFutexBitset:
		if uint32(v) == 0xffffffff {
			return append(dst, "FUTEX_BITSET_MATCH_ANY"...)
		}
		return appendHex(dst, uint64(uint32(v)))
	case kSockLevel:
		return appendXvalMap(dst, uint64(uint32(v)), sockLevels, "SOL_??")
	case kSockOptName:
		switch uint32(c.args[i-1]) {
		case solSocket:
			return appendXval(dst, uint64(uint32(v)), sockOptions, "SO_???")
		case solTCP:
			return appendXval(dst, uint64(uint32(v)), tcpOptions, "TCP_???")
		}
		return strconv.AppendUint(dst, uint64(uint32(v)), 10)
	case kSockOptIn:
		return d.appendSockOpt(dst, c, i)
	case kFamily:
		return appendXval(dst, uint64(uint32(v)), families, "AF_???")
	case kSockType:
		return appendSockType(dst, uint64(uint32(v)))
	case kSockProto:
		return appendSockProto(dst, c.args[0], v)
	case kIoctl:
		if name, ok := ioctls[int64(uint32(v))]; ok {
			return append(dst, name...)
		}
		return appendHex(dst, uint64(uint32(v)))
	case kWhence:
		return appendXval(dst, uint64(uint32(v)), whences, "SEEK_???")
	case kFcntlCmd:
		return appendXvalMap(dst, uint64(uint32(v)), fcntlCmds, "F_???")
	case kClockID:
		return appendXval(dst, uint64(uint32(v)), clockIDs, "CLOCK_???")
	case kClockFlags:
		return appendFlags(dst, uint64(uint32(v)), clockFlags, "0", "TIMER_???")
	case kArchPrctl:
		return appendXvalMap(dst, uint64(uint32(v)), archPrctls, "ARCH_???")
	case kFdFlags:
		return appendFdFlags(dst, c.e.name, uint64(uint32(v)))
	case kDev: // an unsigned int to strace (mknod's, ustat's)
		return appendDev(dst, uint64(uint32(v)))
	case kWaitOptions:
		return appendFlags(dst, uint64(uint32(v)), waitOptions, "0", "W???")
	case kFlockOp:
		return appendFlags(dst, v, flockOps, "0", "LOCK_???")
	case kPrioWhich:
		return appendXval(dst, v, prioWhich, "PRIO_???")
	case kItimerWhich:
		return appendXval(dst, v, itimerWhich, "ITIMER_???")
	case kSchedPolicy:
		return appendXval(dst, v, schedPolicies, "SCHED_???")
	case kXattrFlags:
		return appendFlags(dst, v, xattrFlags, "0", "XATTR_???")
	case kRenameFlags:
		return appendFlags(dst, v, renameFlags, "0", "RENAME_??")
	case kStatOut:
		return d.appendStat(dst, c.mem, v, &statX8664)
	case kStat64Out:
		return d.appendStat(dst, c.mem, v, &stat64I386)
	case kTimespecIn, kTimespecOut, kRemTimespec:
		return d.appendTimespec(dst, c.mem, v, 8)
	case kTimespec32In, kTimespec32Out, kRemTimespec32:
		return d.appendTimespec(dst, c.mem, v, 4)
	case kPageOff:
		return appendHex(dst, v*pageSize)
	case kPipeFds:
		return d.appendPipeFds(dst, c.mem, v)
	case kSockaddrIn:
		return d.appendSockaddr(dst, c.mem, v, uint64(uint32(c.next(i))))
	case kSockaddrOut:
		n, ok := d.readInt32(c.mem, c.next(i))
		if !ok || n < 0 {
			return appendPtr(dst, v)
		}
		return d.appendSockaddr(dst, c.mem, v, uint64(n))
	case kSocklenPtr:
		n, ok := d.readInt32(c.mem, v)
		if !ok {
			return appendPtr(dst, v)
		}
		dst = append(dst, '[')
		dst = strconv.AppendInt(dst, int64(n), 10)
		return append(dst, ']')
	case kArgv:
		return d.appendArgv(dst, c.mem, v, c.tab.wordSize())
	case kEnvp:
		return d.appendEnvp(dst, c.mem, v, c.tab.wordSize())
	case kSigsetIn, kSigsetOut:
		// strace reads a set only of a size it takes, and that many bytes:
		// a word up to the kernel's 8 bytes (print_sigset_addr_len), or
		// for rt_sigpending any size up to 8.
		n, ok := c.sigsetSize(i)
		if !ok {
			n = 8
		}
		least := uint64(c.tab.wordSize())
		if c.e.name == "rt_sigpending" {
			least = 1
		}
		if n < least || n > 8 {
			return appendPtr(dst, v)
		}
		return d.appendSigset(dst, c.mem, v, int(n))
	case kUtsname:
		return d.appendUtsname(dst, c.mem, v)
	case kIovecIn:
		return d.appendIovec(dst, c.mem, v, int64(int32(c.next(i))), c.tab.wordSize())
	case kWaitStatus:
		return d.appendWaitStatus(dst, c.mem, v, c.ret)
	case kSigactionIn, kSigactionOut:
		return d.appendSigaction(dst, c.mem, v, c.tab.wordSize())
	case kStatxFlags:
		// The sync type by name, even the 0 of AT_STATX_SYNC_AS_STAT, then
		// the other AT_ flags.
		f := uint64(uint32(v))
		dst = appendFlags(dst, f&statxSyncType, statxSync, "AT_STATX_SYNC_AS_STAT", "")
		if f &^= statxSyncType; f != 0 {
			dst = append(dst, '|')
			dst = appendFlags(dst, f, atFlags, "", "")
		}
		return dst
	case kStatxMask:
		return appendFlags(dst, uint64(uint32(v)), statxMask, "0", "STATX_???")
	case kStatxOut:
		return d.appendStatx(dst, c.mem, v)
	case kDirentsOut: // struct linux_dirent64: d_ino, d_off, d_reclen, d_type, d_name
		return d.appendDirents(dst, c.mem, v, c.ret, uint64(uint32(c.next(i))), 8, 19)
	case kDirentsOldOut: // struct linux_dirent: d_ino, d_off (longs), d_reclen, d_name
		w := c.tab.wordSize()
		return d.appendDirents(dst, c.mem, v, c.ret, uint64(uint32(c.next(i))), w, 2*w+2)
	case kRlimitRes:
		return appendXval(dst, uint64(uint32(v)), rlimits, "RLIMIT_???")
	case kRlimitIn, kRlimitOut:
		return d.appendRlimit(dst, c.mem, v)
	case kSocketcall:
		if sub, ok := socketcalls[uint32(v)]; ok {
			return append(dst, sub.name...)
		}
		return strconv.AppendUint(dst, uint64(uint32(v)), 10)
	case kSocketcallArgs:
		return d.appendSocketcallArgs(dst, c, v)
	case kShutdownHow:
		return appendXval(dst, uint64(uint32(v)), shutdownHows, "SHUT_???")
	case kMadvise:
		return appendXval(dst, uint64(uint32(v)), madvices, "MADV_???")
	case kGrndFlags:
		return appendFlags(dst, uint64(uint32(v)), grndFlags, "0", "GRND_???")
	case kRandomOut:
		return d.appendHexBuf(dst, c.mem, v, uint64(c.ret))
	case kMlockFlags:
		return appendFlags(dst, uint64(uint32(v)), mlockFlags, "0", "MLOCK_???")
	case kMlockallFlags:
		return appendFlags(dst, uint64(uint32(v)), mlockallFlags, "0", "MCL_???")
	case kMsyncFlags:
		return appendFlags(dst, uint64(uint32(v)), msyncFlags, "0", "MS_???")
	case kMremapFlags:
		return appendFlags(dst, v, mremapFlags, "0", "MREMAP_???")
	case kMembarrierCmd:
		if name := flagName(uint64(uint32(v)), membarrierCmds); name != "" {
			return append(dst, name...)
		}
		return appendUnknown(dst, uint64(uint32(v)), "MEMBARRIER_CMD_???")
	case kMembarrierFlags:
		return appendFlags(dst, uint64(uint32(v)), membarrierFlags, "0", "MEMBARRIER_CMD_FLAG_???")
	case kClone3Args:
		return d.appendClone3(dst, c, v)
	case kPrctlOption:
		return appendPrctlOption(dst, uint32(v))
	case kPrctlArg, kPrctlOut:
		return d.appendPrctlArg(dst, c, i)
	case kKptrOut:
		w := c.tab.wordSize()
		b, ok := d.read(c.mem, v, w)
		if !ok {
			return appendPtr(dst, v)
		}
		dst = append(dst, '[')
		dst = appendPtr(dst, word(b, w))
		return append(dst, ']')
	}
	return appendHex(dst, v)
}

// socketcall's sub-calls (include/uapi/linux/net.h), each with the i386
// call of the same job whose argument kinds it takes, and its argument
// count (net/socket.c); accept, send and recv have no call of their own
// and take the first arguments of accept4, sendto and recvfrom.
var socketcalls = map[uint32]struct {
	name string
	nr   uint64
	args int
}{
	1: {"SYS_SOCKET", 359, 3}, 2: {"SYS_BIND", 361, 3}, 3: {"SYS_CONNECT", 362, 3},
	4: {"SYS_LISTEN", 363, 2}, 5: {"SYS_ACCEPT", 364, 3}, 6: {"SYS_GETSOCKNAME", 367, 3},
	7: {"SYS_GETPEERNAME", 368, 3}, 8: {"SYS_SOCKETPAIR", 360, 4}, 9: {"SYS_SEND", 369, 4},
	10: {"SYS_RECV", 371, 4}, 11: {"SYS_SENDTO", 369, 6}, 12: {"SYS_RECVFROM", 371, 6},
	13: {"SYS_SHUTDOWN", 373, 2}, 14: {"SYS_SETSOCKOPT", 366, 5}, 15: {"SYS_GETSOCKOPT", 365, 5},
	16: {"SYS_SENDMSG", 370, 3}, 17: {"SYS_RECVMSG", 372, 3}, 18: {"SYS_ACCEPT4", 364, 4},
	19: {"SYS_RECVMMSG", 337, 5}, 20: {"SYS_SENDMMSG", 345, 4},
}

// appendSocketcallArgs writes socketcall's argument block, an array of
// 32-bit words, as the arguments of the sub-call it stands for:
// [3, {sa_family=AF_INET, ...}, 16] for SYS_CONNECT. Classic 32-bit code
// (and shellcode) makes all its socket calls this way.
func (d *Decoder) appendSocketcallArgs(dst []byte, c *call, va uint64) []byte {
	sub, ok := socketcalls[uint32(c.args[0])]
	e := i386Calls.lookup(sub.nr)
	if !ok || e == nil {
		return appendPtr(dst, va)
	}
	b, ok := d.read(c.mem, va, 4*sub.args)
	if !ok {
		return appendPtr(dst, va)
	}
	inner := call{tab: i386Calls, e: e, nr: sub.nr, ret: c.ret, done: c.done, mem: c.mem}
	for i := range sub.args {
		inner.args[i] = uint64(binary.LittleEndian.Uint32(b[4*i:]))
	}
	dst = append(dst, '[')
	for i := range sub.args {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = d.appendArg(dst, &inner, i, e.args[i])
	}
	return append(dst, ']')
}

// read fills n bytes of d.raw from va.
func (d *Decoder) read(mem Memory, va uint64, n int) ([]byte, bool) {
	if va == 0 || n <= 0 {
		return nil, false
	}
	if cap(d.raw) < n {
		d.raw = make([]byte, n)
	}
	b := d.raw[:n]
	if mem.ReadVirt(b, va) != nil {
		return nil, false
	}
	return b, true
}

func (d *Decoder) readInt32(mem Memory, va uint64) (int32, bool) {
	b, ok := d.read(mem, va, 4)
	if !ok {
		return 0, false
	}
	return int32(binary.LittleEndian.Uint32(b)), true
}

// readCString reads the NUL-terminated string at va, at most limit bytes of
// it; complete says the NUL was found within them. It reads page by page, so
// a string that ends just before an unmapped page still reads.
func (d *Decoder) readCString(mem Memory, va uint64, limit int) (s []byte, complete, ok bool) {
	// One byte more says whether the string goes on.
	if s, complete, ok = d.readCStringN(mem, va, limit+1); ok && !complete {
		s = s[:limit]
	}
	return s, complete, ok
}

// readCStringN reads the string at va up to its NUL, but at most n bytes
// (at most len(d.str)); complete says the NUL was among them.
func (d *Decoder) readCStringN(mem Memory, va uint64, n int) (s []byte, complete, ok bool) {
	buf := d.str[:0]
	for len(buf) < n {
		at := va + uint64(len(buf))
		k := min(n-len(buf), strChunk, pageSize-int(at%pageSize))
		chunk := buf[len(buf) : len(buf)+k]
		if mem.ReadVirt(chunk, at) != nil {
			return nil, false, false
		}
		if j := bytes.IndexByte(chunk, 0); j >= 0 {
			return buf[:len(buf)+j], true, true
		}
		buf = buf[:len(buf)+k]
	}
	return buf, false, true
}

func appendQuoted(dst, s []byte) []byte {
	dst = append(dst, '"')
	dst = escape.Append(dst, s)
	return append(dst, '"')
}

func (d *Decoder) appendCString(dst []byte, mem Memory, va uint64, limit int) []byte {
	if va == 0 {
		return append(dst, "NULL"...)
	}
	s, complete, ok := d.readCString(mem, va, limit)
	if !ok {
		return appendHex(dst, va)
	}
	dst = appendQuoted(dst, s)
	if !complete {
		dst = append(dst, "..."...)
	}
	return dst
}

// appendCStringN writes the string at va as strace's printstr_ex does
// for a string of at most n bytes (prctl's task names): up to its NUL, or
// "..." after the first min(n, StringLimit) bytes when it has no NUL in them.
func (d *Decoder) appendCStringN(dst []byte, mem Memory, va uint64, n int) []byte {
	if va == 0 {
		return append(dst, "NULL"...)
	}
	// As readCString, it reads a byte past StringLimit to see a NUL there.
	limit := d.opts.StringLimit
	s, complete, ok := d.readCStringN(mem, va, min(n, limit+1))
	if !ok {
		return appendHex(dst, va)
	}
	if len(s) > limit {
		s = s[:limit]
	}
	dst = appendQuoted(dst, s)
	if !complete {
		dst = append(dst, "..."...)
	}
	return dst
}

// appendBuf writes count bytes at va, the first StringLimit of them.
func (d *Decoder) appendBuf(dst []byte, mem Memory, va, count uint64) []byte {
	return d.appendBytes(dst, mem, va, count, appendQuoted)
}

// appendHexBuf is appendBuf with every byte in \x form, as strace shows
// getrandom's: the bytes are random, not text.
func (d *Decoder) appendHexBuf(dst []byte, mem Memory, va, count uint64) []byte {
	return d.appendBytes(dst, mem, va, count, appendHexQuoted)
}

// appendBytes writes the first StringLimit of the count bytes at va with
// quote, "..." when there are more; NULL, or the pointer when unreadable.
func (d *Decoder) appendBytes(dst []byte, mem Memory, va, count uint64, quote func(dst, b []byte) []byte) []byte {
	if va == 0 {
		return append(dst, "NULL"...)
	}
	n := min(count, uint64(d.opts.StringLimit))
	b := d.str[:n]
	if mem.ReadVirt(b, va) != nil {
		return appendHex(dst, va)
	}
	dst = quote(dst, b)
	if count > n {
		dst = append(dst, "..."...)
	}
	return dst
}

// appendHexQuoted writes b quoted, every byte as \xNN.
func appendHexQuoted(dst, b []byte) []byte {
	dst = append(dst, '"')
	for _, c := range b {
		dst = append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
	}
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

func appendOpenFlags(dst []byte, v uint64) []byte {
	dst = append(dst, openAccess[v&oAccMode]...)
	if rest := v &^ oAccMode; rest != 0 {
		dst = append(dst, '|')
		dst = appendFlags(dst, rest, openFlags, "", "")
	}
	return dst
}

// appendMode writes a mode as strace's print_symbolic_mode_t does: the
// file type by name, then S_ISUID, S_ISGID and S_ISVTX by name, then the
// other bits in octal with a leading zero (C's "%#03o"); a mode of a type
// strace has no name for is all octal.
func appendMode(dst []byte, v uint64) []byte {
	t := v >> 12 & 0o17
	if t != 0 && (int(t) >= len(fileTypes) || fileTypes[t] == "") {
		return appendOctal(dst, v)
	}
	if t != 0 {
		dst = append(append(dst, fileTypes[t]...), '|')
	}
	for _, b := range [...]struct {
		bit  uint64
		name string
	}{{0o4000, "S_ISUID|"}, {0o2000, "S_ISGID|"}, {0o1000, "S_ISVTX|"}} {
		if v&b.bit != 0 {
			dst = append(dst, b.name...)
		}
	}
	return appendOctal(dst, v&^0o177000)
}

func appendOctal(dst []byte, v uint64) []byte {
	var tmp [24]byte
	o := strconv.AppendUint(tmp[:0], v, 8)
	if v != 0 {
		o = append([]byte{'0'}, o...)
	}
	for i := len(o); i < 3; i++ {
		dst = append(dst, '0')
	}
	return append(dst, o...)
}

func appendMapFlags(dst []byte, v uint64) []byte {
	const typeMask = 0xf
	dst = appendIndexedHex(dst, v&typeMask, mapTypes)
	if rest := v &^ typeMask; rest != 0 {
		dst = append(dst, '|')
		dst = appendFlags(dst, rest, mapFlags, "", "")
	}
	return dst
}

func appendIndexedHex(dst []byte, v uint64, names []string) []byte {
	if v < uint64(len(names)) && names[v] != "" {
		return append(dst, names[v]...)
	}
	return appendHex(dst, v)
}

// appendCloneFlags writes clone flags; the low byte is the signal sent to
// the parent when the child exits.
func appendCloneFlags(dst []byte, v uint64) []byte {
	flags, sig := v&^cloneCSignal, v&cloneCSignal
	if flags == 0 {
		return appendSignal(dst, int64(sig), true)
	}
	dst = appendFlags(dst, flags, cloneFlags, "", "CLONE_???")
	if sig != 0 {
		dst = append(dst, '|')
		dst = appendSignal(dst, int64(sig), true)
	}
	return dst
}

func appendFutexOp(dst []byte, op uint64) []byte {
	cmd := op & futexCmdMask
	if cmd >= uint64(len(futexCmds)) || op&^(futexCmdMask|futexPrivate|futexClockRT) != 0 {
		return appendHex(dst, op)
	}
	dst = append(dst, futexCmds[cmd]...)
	if op&futexPrivate != 0 {
		dst = append(dst, "_PRIVATE"...)
	}
	if op&futexClockRT != 0 {
		dst = append(dst, "|FUTEX_CLOCK_REALTIME"...)
	}
	return dst
}

func appendSockType(dst []byte, v uint64) []byte {
	const typeMask = 0xf
	dst = appendIndexedHex(dst, v&typeMask, sockTypes)
	rest := v &^ typeMask
	if rest&oCloexec != 0 {
		dst = append(dst, "|SOCK_CLOEXEC"...)
	}
	if rest&oNonblock != 0 {
		dst = append(dst, "|SOCK_NONBLOCK"...)
	}
	if rest &^= oCloexec | oNonblock; rest != 0 {
		dst = append(dst, '|')
		dst = appendHex(dst, rest)
	}
	return dst
}

func appendSockProto(dst []byte, family, proto uint64) []byte {
	switch family {
	case afInet, afInet6:
		return appendXvalMap(dst, uint64(uint32(proto)), ipProtos, "IPPROTO_???")
	case afNetlink:
		return appendXval(dst, uint64(uint32(proto)), netlinkProtos, "NETLINK_???")
	}
	return strconv.AppendUint(dst, proto, 10)
}

// appendFdFlags writes the O_CLOEXEC/O_NONBLOCK pair as strace's table
// for the call names them: under the prefix of the call's own header and
// in that table's order, with what else it holds (fdFlagTables).
func appendFdFlags(dst []byte, name string, v uint64) []byte {
	if name == "fcntl" || name == "fcntl64" { // F_SETFD
		if v == 1 {
			return append(dst, "FD_CLOEXEC"...)
		}
		return appendHex(dst, v)
	}
	t, ok := fdFlagTables[name]
	if !ok {
		t = fdFlagTables[""]
	}
	return appendFlags(dst, v, t.flags, "0", t.dflt)
}

// fdFlagTables are strace's tables of the calls that take the pair ("" for
// the O_ ones: pipe2, dup3...).
var fdFlagTables = map[string]struct {
	flags []flag
	dflt  string
}{
	"":               {[]flag{{oCloexec, "O_CLOEXEC"}, {oNonblock, "O_NONBLOCK"}}, "O_???"},
	"timerfd_create": {[]flag{{oCloexec, "TFD_CLOEXEC"}, {oNonblock, "TFD_NONBLOCK"}}, "TFD_???"},
	"accept4":        {[]flag{{oCloexec, "SOCK_CLOEXEC"}, {oNonblock, "SOCK_NONBLOCK"}}, "SOCK_???"},
	"signalfd4":      {[]flag{{oCloexec, "SFD_CLOEXEC"}, {oNonblock, "SFD_NONBLOCK"}}, "SFD_???"},
	"eventfd2":       {[]flag{{1, "EFD_SEMAPHORE"}, {oCloexec, "EFD_CLOEXEC"}, {oNonblock, "EFD_NONBLOCK"}}, "EFD_???"},
	"epoll_create1":  {[]flag{{oCloexec, "EPOLL_CLOEXEC"}}, "EPOLL_???"},
	"inotify_init1":  {[]flag{{oNonblock, "IN_NONBLOCK"}, {oCloexec, "IN_CLOEXEC"}}, "IN_???"},
	"userfaultfd":    {[]flag{{1, "UFFD_USER_MODE_ONLY"}, {oNonblock, "O_NONBLOCK"}, {oCloexec, "O_CLOEXEC"}}, "UFFD_???"},
}

// appendDev writes a device number as makedev(major, minor), decoding the
// kernel's encoding (include/linux/kdev_t.h new_decode_dev, 64-bit form).
func appendDev(dst []byte, dev uint64) []byte {
	major := dev>>8&0xfff | dev>>32&^0xfff
	minor := dev&0xff | dev>>12&^0xff
	dst = append(dst, "makedev("...)
	dst = appendHex(dst, major&0xffffffff)
	dst = append(dst, ", "...)
	dst = appendHex(dst, minor&0xffffffff)
	return append(dst, ')')
}

// statLayout says where a struct stat keeps what strace shows of it.
type statLayout struct{ size, mode, rdev, fileSize int }

var (
	statX8664  = statLayout{size: statSize, mode: 24, rdev: 40, fileSize: 48}
	stat64I386 = statLayout{size: stat64Size, mode: 16, rdev: 32, fileSize: 44} // packed: 4-byte aligned
)

// appendStat writes a struct stat as strace does by default: the mode and
// the size (or the device of a device node).
func (d *Decoder) appendStat(dst []byte, mem Memory, va uint64, l *statLayout) []byte {
	b, ok := d.read(mem, va, l.size)
	if !ok {
		return appendPtr(dst, va)
	}
	mode := uint64(binary.LittleEndian.Uint32(b[l.mode:]))
	dst = append(dst, "{st_mode="...)
	dst = appendMode(dst, mode)
	switch t := mode >> 12 & 0o17; t {
	case 0o02, 0o06: // S_IFCHR, S_IFBLK
		dst = append(dst, ", st_rdev="...)
		dst = appendDev(dst, binary.LittleEndian.Uint64(b[l.rdev:]))
	default:
		dst = append(dst, ", st_size="...)
		dst = strconv.AppendInt(dst, int64(binary.LittleEndian.Uint64(b[l.fileSize:])), 10)
	}
	return append(dst, ", ...}"...)
}

// appendTimespec writes a struct timespec of two w-byte fields: 8 for
// x86-64 and i386's __kernel_timespec, 4 for i386's old_timespec32.
func (d *Decoder) appendTimespec(dst []byte, mem Memory, va uint64, w int) []byte {
	b, ok := d.read(mem, va, 2*w)
	if !ok {
		return appendPtr(dst, va)
	}
	dst = append(dst, "{tv_sec="...)
	dst = strconv.AppendInt(dst, signedWord(b, w), 10)
	// strace prints tv_nsec unsigned (PRINT_FIELD_U): a bogus negative one shows as such.
	dst = append(dst, ", tv_nsec="...)
	dst = strconv.AppendUint(dst, word(b[w:], w), 10)
	return append(dst, '}')
}

// word reads a w-byte (4 or 8) little-endian word: a pointer or a long.
func word(b []byte, w int) uint64 {
	if w == 4 {
		return uint64(binary.LittleEndian.Uint32(b))
	}
	return binary.LittleEndian.Uint64(b)
}

// signedWord reads a w-byte signed word, sign-extended.
func signedWord(b []byte, w int) int64 {
	if w == 4 {
		return int64(int32(binary.LittleEndian.Uint32(b)))
	}
	return int64(binary.LittleEndian.Uint64(b))
}

func (d *Decoder) appendPipeFds(dst []byte, mem Memory, va uint64) []byte {
	b, ok := d.read(mem, va, 8)
	if !ok {
		return appendPtr(dst, va)
	}
	dst = append(dst, '[')
	dst = strconv.AppendInt(dst, int64(int32(binary.LittleEndian.Uint32(b))), 10)
	dst = append(dst, ", "...)
	dst = strconv.AppendInt(dst, int64(int32(binary.LittleEndian.Uint32(b[4:]))), 10)
	return append(dst, ']')
}

// appendSockaddr writes the n-byte socket address at va.
func (d *Decoder) appendSockaddr(dst []byte, mem Memory, va, n uint64) []byte {
	if va == 0 {
		return append(dst, "NULL"...)
	}
	if n < 2 {
		return appendHex(dst, va)
	}
	b, ok := d.read(mem, va, int(min(n, sockaddrMax)))
	if !ok {
		return appendHex(dst, va)
	}
	family := binary.LittleEndian.Uint16(b)
	dst = append(dst, "{sa_family="...)
	dst = appendXval(dst, uint64(family), families, "AF_???")
	switch {
	case family == afUnix:
		path := b[2:]
		if len(path) > 0 && path[0] == 0 { // abstract: a length, not a NUL, ends it
			dst = append(dst, ", sun_path=@"...)
			dst = appendQuoted(dst, path[1:])
		} else if len(path) > 0 {
			if j := bytes.IndexByte(path, 0); j >= 0 {
				path = path[:j]
			}
			dst = append(dst, ", sun_path="...)
			dst = appendQuoted(dst, path)
		}
	case family == afInet && len(b) >= 8:
		dst = append(dst, ", sin_port=htons("...)
		dst = strconv.AppendUint(dst, uint64(binary.BigEndian.Uint16(b[2:])), 10)
		dst = append(dst, "), sin_addr=inet_addr(\""...)
		dst = netip.AddrFrom4([4]byte(b[4:8])).AppendTo(dst)
		dst = append(dst, "\")"...)
	case family == afInet6 && len(b) >= 24:
		dst = append(dst, ", sin6_port=htons("...)
		dst = strconv.AppendUint(dst, uint64(binary.BigEndian.Uint16(b[2:])), 10)
		dst = append(dst, "), sin6_flowinfo=htonl("...)
		dst = strconv.AppendUint(dst, uint64(binary.BigEndian.Uint32(b[4:])), 10)
		dst = append(dst, "), inet_pton(AF_INET6, \""...)
		dst = netip.AddrFrom16([16]byte(b[8:24])).AppendTo(dst)
		dst = append(dst, "\", &sin6_addr)"...)
		if len(b) >= 28 {
			dst = append(dst, ", sin6_scope_id="...)
			dst = strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint32(b[24:])), 10)
		}
	case family == afNetlink && len(b) >= 12:
		dst = append(dst, ", nl_pid="...)
		dst = strconv.AppendInt(dst, int64(int32(binary.LittleEndian.Uint32(b[4:]))), 10)
		dst = append(dst, ", nl_groups="...)
		g := strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[8:])), 16)
		for i := len(g); i < 8; i++ {
			dst = append(dst, '0')
		}
		dst = append(dst, g...)
	default:
		dst = append(dst, ", sa_data="...)
		dst = appendQuoted(dst, b[2:])
	}
	return append(dst, '}')
}

// pointers reads n w-byte pointers of an array at va, or nil if any of
// them cannot be read.
func (d *Decoder) pointers(mem Memory, va uint64, n, w int) []uint64 {
	b, ok := d.read(mem, va, w*n)
	if !ok {
		return nil
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = word(b[w*i:], w)
	}
	return out
}

// appendArgv writes a NULL-terminated array of w-byte pointers to strings,
// at most ArrayLimit of them.
func (d *Decoder) appendArgv(dst []byte, mem Memory, va uint64, w int) []byte {
	if va == 0 {
		return append(dst, "NULL"...)
	}
	start := len(dst)
	dst = append(dst, '[')
	for i := 0; ; i++ {
		b, ok := d.read(mem, va+uint64(w*i), w)
		if !ok {
			return appendHex(dst[:start], va)
		}
		p := word(b, w)
		if p == 0 {
			break
		}
		if i > 0 {
			dst = append(dst, ", "...)
		}
		if i == d.opts.ArrayLimit {
			dst = append(dst, "..."...)
			break
		}
		dst = d.appendCString(dst, mem, p, d.opts.StringLimit)
	}
	return append(dst, ']')
}

// appendEnvp writes an environment (an array of w-byte pointers) as strace
// does by default: its pointer and how many variables it holds.
func (d *Decoder) appendEnvp(dst []byte, mem Memory, va uint64, w int) []byte {
	dst = appendPtr(dst, va)
	if va == 0 {
		return dst
	}
	const chunk = 64
	count := 0
	for count < envCountLimit {
		// No further than the page's end: the array may end just before
		// a page that is not mapped (strace reads it a pointer at a time).
		at := va + uint64(w*count)
		n := max(1, min(chunk, int(pageSize-at%pageSize)/w))
		ptrs := d.pointers(mem, at, n, w)
		if ptrs == nil {
			return dst
		}
		for _, p := range ptrs {
			if p == 0 {
				return appendCount(dst, count, "", " var", " vars")
			}
			count++
		}
	}
	return appendCount(dst, count, "+", " var", " vars")
}

// appendCount writes strace's count comment, " /* 5 vars */"; more ("+")
// marks a count that stopped at its limit.
func appendCount(dst []byte, n int, more, one, many string) []byte {
	dst = append(dst, " /* "...)
	dst = strconv.AppendInt(dst, int64(n), 10)
	dst = append(dst, more...)
	if n == 1 && more == "" {
		dst = append(dst, one...)
	} else {
		dst = append(dst, many...)
	}
	return append(dst, " */"...)
}

// appendSigset writes a 64-signal set of n bytes (up to 8; the rest are
// taken as 0): [INT TERM], or ~[...] listing the signals not in it when it
// holds most of them.
func (d *Decoder) appendSigset(dst []byte, mem Memory, va uint64, n int) []byte {
	b, ok := d.read(mem, va, n)
	if !ok {
		return appendPtr(dst, va)
	}
	var set [8]byte
	copy(set[:], b)
	return appendSignalSet(dst, binary.LittleEndian.Uint64(set[:]))
}

func appendSignalSet(dst []byte, set uint64) []byte {
	if bits.OnesCount64(set) > sigMax/2 {
		dst = append(dst, '~')
		set = ^set
	}
	dst = append(dst, '[')
	first := true
	for set != 0 {
		s := bits.TrailingZeros64(set)
		set &^= 1 << s
		if !first {
			dst = append(dst, ' ')
		}
		first = false
		dst = appendSignal(dst, int64(s+1), false)
	}
	return append(dst, ']')
}

func (d *Decoder) appendUtsname(dst []byte, mem Memory, va uint64) []byte {
	b, ok := d.read(mem, va, 2*utsFieldLen)
	if !ok {
		return appendPtr(dst, va)
	}
	field := func(f []byte) []byte {
		if j := bytes.IndexByte(f, 0); j >= 0 {
			return f[:j]
		}
		return f
	}
	dst = append(dst, "{sysname="...)
	dst = appendQuoted(dst, field(b[:utsFieldLen]))
	dst = append(dst, ", nodename="...)
	dst = appendQuoted(dst, field(b[utsFieldLen:]))
	return append(dst, ", ...}"...)
}

// appendIovec writes count struct iovecs (two w-byte words each) at va, at
// most ArrayLimit of them, each buffer cut at StringLimit bytes.
func (d *Decoder) appendIovec(dst []byte, mem Memory, va uint64, count int64, w int) []byte {
	if va == 0 || count <= 0 {
		return appendPtr(dst, va)
	}
	n := int(min(count, int64(d.opts.ArrayLimit)))
	vec := d.pointers(mem, va, 2*n, w)
	if vec == nil {
		return appendHex(dst, va)
	}
	dst = append(dst, '[')
	for i := range n {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = append(dst, "{iov_base="...)
		dst = d.appendBuf(dst, mem, vec[2*i], vec[2*i+1])
		dst = append(dst, ", iov_len="...)
		dst = strconv.AppendUint(dst, vec[2*i+1], 10)
		dst = append(dst, '}')
	}
	if count > int64(n) {
		dst = append(dst, ", ..."...)
	}
	return append(dst, ']')
}

// appendWaitStatus writes the status wait4 stored, in strace's macro form.
func (d *Decoder) appendWaitStatus(dst []byte, mem Memory, va uint64, ret int64) []byte {
	st, ok := d.readInt32(mem, va)
	if !ok || ret == 0 { // WNOHANG and no child changed: nothing was stored
		return appendPtr(dst, va)
	}
	s := uint32(st)
	dst = append(dst, "[{"...)
	switch {
	case s&0x7f == 0:
		dst = append(dst, "WIFEXITED(s) && WEXITSTATUS(s) == "...)
		dst = strconv.AppendUint(dst, uint64(s>>8&0xff), 10)
	case s&0xff == 0x7f:
		dst = append(dst, "WIFSTOPPED(s) && WSTOPSIG(s) == "...)
		dst = appendSignal(dst, int64(s>>8&0xff), true)
	default:
		dst = append(dst, "WIFSIGNALED(s) && WTERMSIG(s) == "...)
		dst = appendSignal(dst, int64(s&0x7f), true)
		if s&0x80 != 0 {
			dst = append(dst, " && WCOREDUMP(s)"...)
		}
	}
	return append(dst, "}]"...)
}

// appendSigaction writes the kernel's struct sigaction of rt_sigaction:
// handler, flags and restorer, w-byte words (8 on x86-64, 4 on i386), then
// the 64-bit mask.
func (d *Decoder) appendSigaction(dst []byte, mem Memory, va uint64, w int) []byte {
	b, ok := d.read(mem, va, 3*w+8)
	if !ok {
		return appendPtr(dst, va)
	}
	handler := word(b, w)
	flags := word(b[w:], w)
	dst = append(dst, "{sa_handler="...)
	switch handler {
	case 0:
		dst = append(dst, "SIG_DFL"...)
	case 1:
		dst = append(dst, "SIG_IGN"...)
	case ^uint64(0) >> (64 - 8*w): // (void (*)(int))-1
		dst = append(dst, "SIG_ERR"...)
	default:
		dst = appendHex(dst, handler)
	}
	dst = append(dst, ", sa_mask="...)
	dst = appendSignalSet(dst, binary.LittleEndian.Uint64(b[3*w:]))
	dst = append(dst, ", sa_flags="...)
	dst = appendFlags(dst, flags, saFlags, "0", "SA_???")
	if flags&saRestorer != 0 {
		dst = append(dst, ", sa_restorer="...)
		dst = appendHex(dst, word(b[2*w:], w))
	}
	return append(dst, '}')
}

// appendStatx writes a struct statx as strace does by default.
func (d *Decoder) appendStatx(dst []byte, mem Memory, va uint64) []byte {
	b, ok := d.read(mem, va, statxSize)
	if !ok {
		return appendPtr(dst, va)
	}
	le := binary.LittleEndian
	mode := uint64(le.Uint16(b[28:]))
	dst = append(dst, "{stx_mask="...)
	dst = appendFlags(dst, uint64(le.Uint32(b)), statxMask, "0", "STATX_???")
	dst = append(dst, ", stx_attributes="...)
	dst = appendHex(dst, le.Uint64(b[8:]))
	dst = append(dst, ", stx_mode="...)
	dst = appendMode(dst, mode)
	switch mode >> 12 & 0o17 {
	case 0o02, 0o06: // S_IFCHR, S_IFBLK
		dst = append(dst, ", stx_rdev_major="...)
		dst = strconv.AppendUint(dst, uint64(le.Uint32(b[128:])), 10)
		dst = append(dst, ", stx_rdev_minor="...)
		dst = strconv.AppendUint(dst, uint64(le.Uint32(b[132:])), 10)
	default:
		dst = append(dst, ", stx_size="...)
		dst = strconv.AppendUint(dst, le.Uint64(b[40:]), 10)
	}
	return append(dst, ", ...}"...)
}

// appendDirents writes the buffer of getdents64 or getdents as strace does
// by default: the pointer and how many entries the call stored, walking
// their d_reclen as strace does, so a broken record shows as strace shows
// it. Each entry starts with w-byte d_ino and d_off, then d_reclen; header
// is the offset of d_name. It reads at most direntsMax bytes of them.
func (d *Decoder) appendDirents(dst []byte, mem Memory, va uint64, ret int64, count uint64, w, header int) []byte {
	dst = appendPtr(dst, va)
	if ret < 0 || uint64(ret) > count { // more than the buffer holds: strace shows no entries
		return dst
	}
	b, ok := d.read(mem, va, int(min(ret, direntsMax)))
	left, off, n := int(ret), 0, 0
	for ok && left >= header && off+header <= len(b) {
		n++
		reclen := int(binary.LittleEndian.Uint16(b[off+2*w:]))
		switch {
		case reclen > left:
			dst = appendComment(dst, "d_reclen "+strconv.Itoa(reclen-left)+" bytes overflow")
			left = 0
		case reclen < header:
			dst = appendComment(dst, "d_reclen "+strconv.Itoa(header-reclen)+" bytes underflow")
			left -= header
			ok = false // strace stops at such a record
		default:
			left -= reclen
			off += reclen
		}
	}
	more := ""
	if left > 0 {
		more = "+"
	}
	return appendCount(dst, n, more, " entries", " entries")
}

// appendRlimit writes a struct rlimit as strace does: infinity by name and
// multiples of 1024 past 1024 as N*1024.
func (d *Decoder) appendRlimit(dst []byte, mem Memory, va uint64) []byte {
	b, ok := d.read(mem, va, 16)
	if !ok {
		return appendPtr(dst, va)
	}
	lim := func(dst []byte, v uint64) []byte {
		switch {
		case v == ^uint64(0):
			return append(dst, "RLIM64_INFINITY"...)
		case v > 1024 && v%1024 == 0:
			return append(strconv.AppendUint(dst, v/1024, 10), "*1024"...)
		}
		return strconv.AppendUint(dst, v, 10)
	}
	dst = append(dst, "{rlim_cur="...)
	dst = lim(dst, binary.LittleEndian.Uint64(b))
	dst = append(dst, ", rlim_max="...)
	dst = lim(dst, binary.LittleEndian.Uint64(b[8:]))
	return append(dst, '}')
}

// appendSockOpt writes setsockopt's value (argument i) as strace does: a
// struct linger for SO_LINGER, [int] when its length is an int's, else
// its bytes.
func (d *Decoder) appendSockOpt(dst []byte, c *call, i int) []byte {
	va, n := c.args[i], uint32(c.next(i))
	if uint32(c.args[i-2]) == solSocket && uint32(c.args[i-1]) == soLinger && n == 8 {
		if b, ok := d.read(c.mem, va, 8); ok {
			dst = append(dst, "{l_onoff="...)
			dst = strconv.AppendInt(dst, int64(int32(binary.LittleEndian.Uint32(b))), 10)
			dst = append(dst, ", l_linger="...)
			dst = strconv.AppendInt(dst, int64(int32(binary.LittleEndian.Uint32(b[4:]))), 10)
			return append(dst, '}')
		}
		return appendPtr(dst, va)
	}
	if n == 4 {
		return d.appendIntPtr(dst, c.mem, va)
	}
	return d.appendBuf(dst, c.mem, va, uint64(n))
}
