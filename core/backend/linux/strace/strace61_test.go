package strace

import (
	"encoding/binary"
	"testing"

	"nitro/core/backend"
	"nitro/core/kvm"
)

// The calls below were compared with strace 6.1 on a real guest; the
// expected lines are strace's (src/prctl.c, clone.c, ... and tests/*.c).

const nrPrctl = 157

func TestPrctl(t *testing.T) {
	mem := &fakeMem{}
	name := mem.str(0x1000, "foo")
	long := mem.str(0x1100, "0123456789abcdef") // 16 bytes: more than a task name holds
	comm := mem.str(0x2000, "kworker")
	sigchld := mem.put(0x3000, []byte{17, 0, 0, 0})
	three := mem.put(0x3010, []byte{3, 0, 0, 0})
	one := mem.put(0x3020, []byte{1, 0, 0, 0})
	tid := mem.ptrs(0x3030, 0x7f0000001000)
	cookie := mem.ptrs(0x3040, 0x2a)
	fprog := mem.ptrs(0x4000, 5, 0x7000)
	vma := mem.str(0x5000, "heap")
	d := NewDecoder(Options{})
	checkLines(t, d, mem, []lineCase{
		{nrPrctl, 0, []uint64{15, name}, `prctl(PR_SET_NAME, "foo") = 0`},
		// The kernel takes 15 bytes; strace reads no further.
		{nrPrctl, 0, []uint64{15, long + 1}, `prctl(PR_SET_NAME, "123456789abcdef"...) = 0`},
		{nrPrctl, 0, []uint64{15, long + 2}, `prctl(PR_SET_NAME, "23456789abcdef") = 0`},
		{nrPrctl, -14, []uint64{15, 0x9000}, `prctl(PR_SET_NAME, 0x9000) = -1 EFAULT (Bad address)`},
		{nrPrctl, 0, []uint64{16, comm}, `prctl(PR_GET_NAME, "kworker") = 0`},
		{nrPrctl, -14, []uint64{16, 0x9000}, `prctl(PR_GET_NAME, 0x9000) = -1 EFAULT (Bad address)`},
		{nrPrctl, 0, []uint64{1, 17}, `prctl(PR_SET_PDEATHSIG, SIGCHLD) = 0`},
		{nrPrctl, -22, []uint64{1, 200}, `prctl(PR_SET_PDEATHSIG, 200) = -1 EINVAL (Invalid argument)`},
		{nrPrctl, 0, []uint64{2, sigchld}, `prctl(PR_GET_PDEATHSIG, [SIGCHLD]) = 0`},
		{nrPrctl, 1, []uint64{3, 0xdead, 0xbeef}, `prctl(PR_GET_DUMPABLE) = 1 (SUID_DUMP_USER)`},
		{nrPrctl, 0, []uint64{4, 3}, `prctl(PR_SET_DUMPABLE, 0x3 /* SUID_DUMP_??? */) = 0`},
		// The option is an int: the register's upper half does not count.
		{nrPrctl, 0, []uint64{0xbadc0ded00000007, 1}, `prctl(PR_GET_KEEPCAPS) = 0`},
		{nrPrctl, -22, []uint64{0x42, 1, 2, 3, 0}, `prctl(0x42 /* PR_??? */, 0x1, 0x2, 0x3, 0) = -1 EINVAL (Invalid argument)`},
		{nrPrctl, 0, []uint64{38, 1}, `prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) = 0`},
		{nrPrctl, 0, []uint64{39}, `prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) = 0`},
		{nrPrctl, 0, []uint64{22, 1}, `prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) = 0`},
		{nrPrctl, 0, []uint64{22, 2, fprog}, `prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, {len=5, filter=0x7000}) = 0`},
		{nrPrctl, -14, []uint64{22, 2, 0x9000}, `prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, 0x9000) = -1 EFAULT (Bad address)`},
		{nrPrctl, 1, []uint64{23, 21}, `prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN) = 1`},
		{nrPrctl, -22, []uint64{24, 99}, `prctl(PR_CAPBSET_DROP, 0x63 /* CAP_??? */) = -1 EINVAL (Invalid argument)`},
		{nrPrctl, 0, []uint64{47, 2, 12}, `prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0) = 0`},
		{nrPrctl, 0, []uint64{47, 4}, `prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) = 0`},
		{nrPrctl, 0, []uint64{35, 7, 0x55000}, `prctl(PR_SET_MM, PR_SET_MM_BRK, 0x55000, 0, 0) = 0`},
		{nrPrctl, 0, []uint64{0x53564d41, 0, 0x7f0000, 4096, vma}, `prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, 0x7f0000, 4096, "heap") = 0`},
		{nrPrctl, 0, []uint64{29, ^uint64(0)}, `prctl(PR_SET_TIMERSLACK, -1) = 0`},
		{nrPrctl, 0, []uint64{0x59616d61, ^uint64(0)}, `prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY) = 0`},
		{nrPrctl, 0, []uint64{0x59616d61, 1234}, `prctl(PR_SET_PTRACER, 1234) = 0`},
		{nrPrctl, 0, []uint64{28, 0x11}, `prctl(PR_SET_SECUREBITS, SECBIT_NOROOT|SECBIT_KEEP_CAPS) = 0`},
		{nrPrctl, 0x11, []uint64{27}, `prctl(PR_GET_SECUREBITS) = 0x11 (SECBIT_NOROOT|SECBIT_KEEP_CAPS)`},
		{nrPrctl, 0, []uint64{27}, `prctl(PR_GET_SECUREBITS) = 0`},
		{nrPrctl, 1, []uint64{52, 0}, `prctl(PR_GET_SPECULATION_CTRL, PR_SPEC_STORE_BYPASS) = 0x1 (PR_SPEC_PRCTL)`},
		{nrPrctl, 0, []uint64{52, 2}, `prctl(PR_GET_SPECULATION_CTRL, PR_SPEC_L1D_FLUSH) = 0 (PR_SPEC_NOT_AFFECTED)`},
		{nrPrctl, 0, []uint64{53, 0, 4}, `prctl(PR_SET_SPECULATION_CTRL, PR_SPEC_STORE_BYPASS, PR_SPEC_DISABLE) = 0`},
		{nrPrctl, 1, []uint64{34}, `prctl(PR_MCE_KILL_GET, 0, 0, 0, 0) = 1 (PR_MCE_KILL_EARLY)`},
		{nrPrctl, 0, []uint64{33, 1, 2}, `prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_DEFAULT, 0, 0) = 0`},
		{nrPrctl, 0, []uint64{40, tid}, `prctl(PR_GET_TID_ADDRESS, [0x7f0000001000]) = 0`},
		{158, 0, []uint64{0x1003, tid}, `arch_prctl(ARCH_GET_FS, [0x7f0000001000]) = 0`},
		{158, -14, []uint64{0x1004, 0x9000}, `arch_prctl(ARCH_GET_GS, 0x9000) = -1 EFAULT (Bad address)`},
		{nrPrctl, 0, []uint64{5, three}, `prctl(PR_GET_UNALIGN, [PR_UNALIGN_NOPRINT|PR_UNALIGN_SIGBUS]) = 0`},
		{nrPrctl, 0, []uint64{25, one}, `prctl(PR_GET_TSC, [PR_TSC_ENABLE]) = 0`},
		{nrPrctl, 0, []uint64{37, one}, `prctl(PR_GET_CHILD_SUBREAPER, [1]) = 0`},
		{nrPrctl, 0, []uint64{36, 1}, `prctl(PR_SET_CHILD_SUBREAPER, 1) = 0`},
		{nrPrctl, 0, []uint64{62, 0, 1234, 1, cookie}, `prctl(PR_SCHED_CORE, PR_SCHED_CORE_GET, 1234, 0x1 /* PIDTYPE_TGID */, [0x2a]) = 0`},
		{nrPrctl, 0, []uint64{62, 1, 0, 0, 0}, `prctl(PR_SCHED_CORE, PR_SCHED_CORE_CREATE, 0, 0 /* PIDTYPE_PID */, NULL) = 0`},
		{nrPrctl, 0x600ff, []uint64{50, 0x600ff}, `prctl(PR_SVE_SET_VL, PR_SVE_SET_VL_ONEXEC|PR_SVE_VL_INHERIT|0xff) = 0x600ff (PR_SVE_SET_VL_ONEXEC|PR_SVE_VL_INHERIT|0xff)`},
		{nrPrctl, 0x10, []uint64{51}, `prctl(PR_SVE_GET_VL) = 0x10`},
		{nrPrctl, 0, []uint64{55, 0x7fff3}, `prctl(PR_SET_TAGGED_ADDR_CTRL, PR_TAGGED_ADDR_ENABLE|PR_MTE_TCF_SYNC|0xfffe<<PR_MTE_TAG_SHIFT, 0, 0, 0) = 0`},
		{nrPrctl, 0, []uint64{56}, `prctl(PR_GET_TAGGED_ADDR_CTRL, 0, 0, 0, 0) = 0 (!PR_TAGGED_ADDR_ENABLE|PR_MTE_TCF_NONE)`},
		{nrPrctl, 0, []uint64{54, 0x11}, `prctl(PR_PAC_RESET_KEYS, PR_PAC_APIAKEY|PR_PAC_APGAKEY, 0, 0, 0) = 0`},
		{nrPrctl, 0, []uint64{59, 1, 0x1000, 0x2000, 0}, `prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, 0x1000, 0x2000, NULL) = 0`},
	})

	// Entry: what the call will write shows as its pointer.
	enter, _ := run(d, mem, nrPrctl, 0, 16, comm)
	if got, want := line(&enter), `prctl(PR_GET_NAME, 0x2000)`; got != want {
		t.Errorf("entry: got %s, want %s", got, want)
	}
	// strace -s 4: "kworker" is cut, the NUL a byte past the limit counts.
	short := NewDecoder(Options{StringLimit: 4})
	checkLines(t, short, mem, []lineCase{
		{nrPrctl, 0, []uint64{16, comm}, `prctl(PR_GET_NAME, "kwor"...) = 0`},
		{nrPrctl, 0, []uint64{15, mem.str(0x1200, "abcd")}, `prctl(PR_SET_NAME, "abcd") = 0`},
	})
}

func TestPrintargsCalls(t *testing.T) {
	// strace has no decoder for these: every argument in hex.
	checkLines(t, NewDecoder(Options{}), &fakeMem{}, []lineCase{
		{334, 0, []uint64{0x7f0000002000, 32, 0, 0x53053053}, `rseq(0x7f0000002000, 0x20, 0, 0x53053053) = 0`},
		{218, 42, []uint64{0}, `set_tid_address(0) = 42`},
		{218, 42, []uint64{0x7f00}, `set_tid_address(0x7f00) = 42`},
	})
}

func TestGetrandom(t *testing.T) {
	mem := &fakeMem{}
	buf := mem.put(0x1000, []byte("ab\x00\xff\x10"))
	d := NewDecoder(Options{})
	checkLines(t, d, mem, []lineCase{
		{318, 0, []uint64{0, 0, 0}, `getrandom(NULL, 0, 0) = 0`},
		{318, 3, []uint64{buf, 3, 0}, `getrandom("\x61\x62\x00", 3, 0) = 3`},
		{318, 5, []uint64{buf, 5, 1}, `getrandom("\x61\x62\x00\xff\x10", 5, GRND_NONBLOCK) = 5`},
		{318, -22, []uint64{buf, 4, 0x3003}, `getrandom(0x1000, 4, GRND_NONBLOCK|GRND_RANDOM|0x3000) = -1 EINVAL (Invalid argument)`},
		{318, -22, []uint64{buf, 4, 0x10}, `getrandom(0x1000, 4, 0x10 /* GRND_??? */) = -1 EINVAL (Invalid argument)`},
	})
	_, exit := run(NewDecoder(Options{StringLimit: 2}), mem, 318, 5, buf, 5, 4)
	if got, want := line(&exit), `getrandom("\x61\x62"..., 5, GRND_INSECURE) = 5`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestSigactionFlags(t *testing.T) {
	mem := &fakeMem{}
	// glibc's usual: SA_RESTORER first in strace's order, SA_SIGINFO after.
	act := mem.ptrs(0x1000, 0x401000, saRestorer|0x10000000|0x40000000|4, 0x402000, 0)
	errAct := mem.ptrs(0x1100, ^uint64(0), 0x400, 0, 0)
	act32 := mem.ptrs32(0x1200, 0xffffffff, 0x80000000|0x20000000, 0, 0, 0)
	d := NewDecoder(Options{})
	checkLines(t, d, mem, []lineCase{
		{13, 0, []uint64{17, act, 0, 8}, `rt_sigaction(SIGCHLD, {sa_handler=0x401000, sa_mask=[], sa_flags=SA_RESTORER|SA_RESTART|SA_NODEFER|SA_SIGINFO, sa_restorer=0x402000}, NULL, 8) = 0`},
		{13, 0, []uint64{17, errAct, 0, 8}, `rt_sigaction(SIGCHLD, {sa_handler=SIG_ERR, sa_mask=[], sa_flags=0x400 /* SA_??? */}, NULL, 8) = 0`},
	})
	checkI386(t, d, mem, []i386Case{
		{174, 0, []uint64{2, act32, 0, 8}, `rt_sigaction(SIGINT, {sa_handler=SIG_ERR, sa_mask=[], sa_flags=SA_INTERRUPT|SA_RESETHAND}, NULL, 8) = 0`},
	})
}

func TestSleepRemainder(t *testing.T) {
	mem := &fakeMem{}
	req := mem.ptrs(0x1000, 1, 500000000)
	rem := mem.ptrs(0x2000, 0xdeadbeef, 0xbadc0ded) // stack garbage: the call did not write it
	rem32 := mem.ptrs32(0x3000, 0, 250)
	d := NewDecoder(Options{})
	checkLines(t, d, mem, []lineCase{
		{35, 0, []uint64{req, rem}, `nanosleep({tv_sec=1, tv_nsec=500000000}, 0x2000) = 0`},
		{35, -14, []uint64{req, rem}, `nanosleep({tv_sec=1, tv_nsec=500000000}, 0x2000) = -1 EFAULT (Bad address)`},
		{35, -516, []uint64{req, rem}, `nanosleep({tv_sec=1, tv_nsec=500000000}, {tv_sec=3735928559, tv_nsec=3134983661}) = ? ERESTART_RESTARTBLOCK (Interrupted by signal)`},
		{230, 0, []uint64{1, 0, req, rem}, `clock_nanosleep(CLOCK_MONOTONIC, 0, {tv_sec=1, tv_nsec=500000000}, 0x2000) = 0`},
		{230, -516, []uint64{0, 0, req, rem}, `clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=1, tv_nsec=500000000}, {tv_sec=3735928559, tv_nsec=3134983661}) = ? ERESTART_RESTARTBLOCK (Interrupted by signal)`},
		// An absolute time leaves nothing to write.
		{230, -516, []uint64{0, 1, req, rem}, `clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, {tv_sec=1, tv_nsec=500000000}, 0x2000) = ? ERESTART_RESTARTBLOCK (Interrupted by signal)`},
		{230, -22, []uint64{0, 2, req, 0}, `clock_nanosleep(CLOCK_REALTIME, 0x2 /* TIMER_??? */, {tv_sec=1, tv_nsec=500000000}, NULL) = -1 EINVAL (Invalid argument)`},
	})
	checkI386(t, d, mem, []i386Case{
		{162, 0, []uint64{rem32, rem32}, `nanosleep({tv_sec=0, tv_nsec=250}, 0x3000) = 0`},
		{162, neg(514), []uint64{rem32, rem32}, `nanosleep({tv_sec=0, tv_nsec=250}, {tv_sec=0, tv_nsec=250}) = ? ERESTARTNOHAND (To be restarted if no handler)`},
	})
}

func TestValueNames(t *testing.T) {
	d := NewDecoder(Options{})
	checkLines(t, d, &fakeMem{}, []lineCase{
		{48, 0, []uint64{4, 1}, `shutdown(4, SHUT_WR) = 0`},
		{48, -22, []uint64{4, 7}, `shutdown(4, 0x7 /* SHUT_??? */) = -1 EINVAL (Invalid argument)`},
		{28, 0, []uint64{0x7f0000000000, 8192, 4}, `madvise(0x7f0000000000, 8192, MADV_DONTNEED) = 0`},
		{28, 0, []uint64{0x7f0000000000, 8192, 14}, `madvise(0x7f0000000000, 8192, MADV_HUGEPAGE) = 0`},
		{28, 0, []uint64{0x7f0000000000, 8192, 101}, `madvise(0x7f0000000000, 8192, MADV_SOFT_OFFLINE) = 0`},
		{28, -22, []uint64{0x7f0000000000, 8192, 26}, `madvise(0x7f0000000000, 8192, 0x1a /* MADV_??? */) = -1 EINVAL (Invalid argument)`},
		{440, 0, []uint64{3, 0x1000, 1, 21, 0}, `process_madvise(3, 0x1000, 1, MADV_PAGEOUT, 0) = 0`},
		{325, 0, []uint64{0x1000, 4096, 1}, `mlock2(0x1000, 4096, MLOCK_ONFAULT) = 0`},
		{325, -22, []uint64{0x1000, 4096, 0xffffffff}, `mlock2(0x1000, 4096, MLOCK_ONFAULT|0xfffffffe) = -1 EINVAL (Invalid argument)`},
		{151, 0, []uint64{3}, `mlockall(MCL_CURRENT|MCL_FUTURE) = 0`},
		{26, 0, []uint64{0x1000, 4096, 6}, `msync(0x1000, 4096, MS_SYNC|MS_INVALIDATE) = 0`},
		{25, 0x2000, []uint64{0x1000, 4096, 8192, 1, 0xdead}, `mremap(0x1000, 4096, 8192, MREMAP_MAYMOVE) = 0x2000`},
		{25, 0x2000, []uint64{0x1000, 4096, 8192, 3, 0x2000}, `mremap(0x1000, 4096, 8192, MREMAP_MAYMOVE|MREMAP_FIXED, 0x2000) = 0x2000`},
		{324, 0x1ff, []uint64{0, 0}, `membarrier(MEMBARRIER_CMD_QUERY, 0) = 0x1ff (MEMBARRIER_CMD_GLOBAL|MEMBARRIER_CMD_GLOBAL_EXPEDITED|MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED|MEMBARRIER_CMD_PRIVATE_EXPEDITED|MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED|MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE|MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE|MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ|MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ)`},
		{324, 0, []uint64{8, 0, 5}, `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) = 0`},
		{324, 0, []uint64{128, 1, 5}, `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, MEMBARRIER_CMD_FLAG_CPU, 5) = 0`},
		{324, -22, []uint64{3, 0}, `membarrier(0x3 /* MEMBARRIER_CMD_??? */, 0) = -1 EINVAL (Invalid argument)`},
		{272, 0, []uint64{0x20000 | 0x10000000}, `unshare(CLONE_NEWNS|CLONE_NEWUSER) = 0`},
		{308, 0, []uint64{3, 0x40000000}, `setns(3, CLONE_NEWNET) = 0`},
		{61, 0, []uint64{0xffffffffffffffff, 0, 2 | 8, 0}, `wait4(-1, NULL, WSTOPPED|WCONTINUED, NULL) = 0`},
		{8, -22, []uint64{3, 0, 7}, `lseek(3, 0, 0x7 /* SEEK_??? */) = -1 EINVAL (Invalid argument)`},
		{228, -22, []uint64{0xfffffffa, 0}, `clock_gettime(0xfffffffa /* CLOCK_??? */, NULL) = -1 EINVAL (Invalid argument)`},
		{41, 3, []uint64{16, 3, 9}, `socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT) = 3`},
		{41, -97, []uint64{99, 1, 0}, `socket(0x63 /* AF_??? */, SOCK_STREAM, 0) = -1 EAFNOSUPPORT (Address family not supported by protocol)`},
		{72, -22, []uint64{3, 99}, `fcntl(3, 0x63 /* F_??? */, 0) = -1 EINVAL (Invalid argument)`},
		{158, -22, []uint64{0x1099, 0}, `arch_prctl(0x1099 /* ARCH_??? */, 0) = -1 EINVAL (Invalid argument)`},
		{158, 1, []uint64{0x1011, 0xdead}, `arch_prctl(ARCH_GET_CPUID) = 1`},
	})
}

func TestStatxFlags(t *testing.T) {
	mem := &fakeMem{}
	path := mem.str(0x1000, "/etc")
	checkLines(t, NewDecoder(Options{}), mem, []lineCase{
		{332, -2, []uint64{atFdcwd, path, 0x100, 0x7ff, 0x2000}, `statx(AT_FDCWD, "/etc", AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, 0x2000) = -1 ENOENT (No such file or directory)`},
		{332, -2, []uint64{atFdcwd, path, 0x4000 | 0x1000, 0x4000, 0x2000}, `statx(AT_FDCWD, "/etc", AT_STATX_DONT_SYNC|AT_EMPTY_PATH, 0x4000 /* STATX_??? */, 0x2000) = -1 ENOENT (No such file or directory)`},
	})
}

func TestGetdents(t *testing.T) {
	mem := &fakeMem{}
	rec := func(reclen int) []byte {
		b := make([]byte, reclen)
		binary.LittleEndian.PutUint16(b[16:], uint16(reclen))
		return b
	}
	one := mem.put(0x1000, rec(24))
	three := mem.put(0x2000, append(append(rec(24), rec(32)...), rec(24)...))
	over := mem.put(0x3000, rec(24)) // the call says 20 bytes
	old := make([]byte, 40)          // struct linux_dirent: reclen after two longs
	binary.LittleEndian.PutUint16(old[16:], 20)
	binary.LittleEndian.PutUint16(old[20+16:], 20)
	olds := mem.put(0x4000, old)
	short := mem.put(0x4100, []byte{16: 18, 17: 0}) // an 18-byte record: all header
	d := NewDecoder(Options{})
	checkLines(t, d, mem, []lineCase{
		{217, 0, []uint64{3, one, 32768}, `getdents64(3, 0x1000 /* 0 entries */, 32768) = 0`},
		{217, 24, []uint64{3, one, 32768}, `getdents64(3, 0x1000 /* 1 entries */, 32768) = 24`},
		{217, 80, []uint64{3, three, 32768}, `getdents64(3, 0x2000 /* 3 entries */, 32768) = 80`},
		{217, 20, []uint64{3, over, 32768}, `getdents64(3, 0x3000 /* d_reclen 4 bytes overflow */ /* 1 entries */, 32768) = 20`},
		{217, 10, []uint64{3, one, 32768}, `getdents64(3, 0x1000 /* 0+ entries */, 32768) = 10`},
		{217, 24, []uint64{3, 0x9000, 32768}, `getdents64(3, 0x9000 /* 0+ entries */, 32768) = 24`},
		{217, 80, []uint64{3, three, 16}, `getdents64(3, 0x2000, 16) = 80`}, // more than the buffer: no walk
		{217, -9, []uint64{7, three, 16}, `getdents64(7, 0x2000, 16) = -1 EBADF (Bad file descriptor)`},
		{78, 40, []uint64{3, olds, 32768}, `getdents(3, 0x4000 /* 2 entries */, 32768) = 40`},
		{78, 18, []uint64{3, short, 32768}, `getdents(3, 0x4100 /* 1 entries */, 32768) = 18`},
	})
	old32 := make([]byte, 24) // i386: 4-byte d_ino and d_off
	binary.LittleEndian.PutUint16(old32[8:], 12)
	binary.LittleEndian.PutUint16(old32[12+8:], 12)
	checkI386(t, d, mem, []i386Case{
		{141, 24, []uint64{3, mem.put(0x4200, old32), 32768}, `getdents(3, 0x4200 /* 2 entries */, 32768) = 24`},
		{220, 24, []uint64{3, one, 32768}, `getdents64(3, 0x1000 /* 1 entries */, 32768) = 24`},
	})
}

func TestClone(t *testing.T) {
	mem := &fakeMem{}
	ptid := mem.put(0x1000, []byte{0xd2, 0x04, 0, 0}) // 1234
	desc := make([]byte, 16)
	binary.LittleEndian.PutUint32(desc, 12)
	binary.LittleEndian.PutUint32(desc[4:], 0xf7d8e740)
	binary.LittleEndian.PutUint32(desc[8:], 0xfffff)
	binary.LittleEndian.PutUint32(desc[12:], 0x51) // seg_32bit, limit_in_pages, useable
	udesc := mem.put(0x2000, desc)
	d := NewDecoder(Options{})
	// glibc's pthread_create.
	const thread = 0x3d0f00 // CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID
	checkLines(t, d, mem, []lineCase{
		{56, 1234, []uint64{thread, 0x7f0000100000, ptid, 0x7f0000200000, 0x7f0000300000},
			`clone(child_stack=0x7f0000100000, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, parent_tid=[1234], tls=0x7f0000300000, child_tidptr=0x7f0000200000) = 1234`},
		{56, -11, []uint64{thread, 0x7f0000100000, ptid, 0x7f0000200000, 0x7f0000300000},
			`clone(child_stack=0x7f0000100000, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, parent_tid=0x1000, tls=0x7f0000300000, child_tidptr=0x7f0000200000) = -1 EAGAIN (Resource temporarily unavailable)`},
		{56, 99, []uint64{0x4111, 0, 0, 0, 0}, `clone(child_stack=NULL, flags=CLONE_VM|CLONE_VFORK|SIGCHLD) = 99`},
		{56, 99, []uint64{0, 0, 0, 0, 0}, `clone(child_stack=NULL, flags=0) = 99`},
		{56, 99, []uint64{0x400000 | 17, 0, 0, 0, 0}, `clone(child_stack=NULL, flags=0x400000 /* CLONE_??? */|SIGCHLD) = 99`},
	})
	// i386 passes tls before child_tidptr, and tls is a struct user_desc.
	checkI386(t, d, mem, []i386Case{
		{120, 1234, []uint64{thread, 0xf7000000, ptid, udesc, 0xf7100000},
			`clone(child_stack=0xf7000000, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, parent_tid=[1234], tls={entry_number=12, base_addr=0xf7d8e740, limit=0x0fffff, seg_32bit=1, contents=0, read_exec_only=0, limit_in_pages=1, seg_not_present=0, useable=1}, child_tidptr=0xf7100000) = 1234`},
	})

	// Each shown argument says which register it is, for edits.
	regs := [6]uint64{thread, 0x7f0000100000, ptid, 0x7f0000200000, 0x7f0000300000}
	_, exit := run(d, mem, 56, 1234, regs[:5]...)
	for i, want := range []int{1, 0, 2, 4, 3, -1} {
		if got := ArgRegister(&exit, i); got != want {
			t.Errorf("clone arg %d is register %d, want %d", i, got, want)
		}
		if want >= 0 && exit.Args[i].Raw != regs[want] {
			t.Errorf("clone arg %d holds %#x, not register %d", i, exit.Args[i].Raw, want)
		}
	}
	_, i386Exit := runABI(d, mem, backend.I386, 120, 1234, thread, 0xf7000000, ptid, udesc, 0xf7100000)
	if got := ArgRegister(&i386Exit, 3); got != 3 {
		t.Errorf("i386 clone's tls is register %d, want 3", got)
	}
	_, openat := run(d, mem, 257, 3, atFdcwd, 0x1000, 0)
	if got := ArgRegister(&openat, 1); got != 1 {
		t.Errorf("openat arg 1 is register %d", got)
	}
}

func TestClone3(t *testing.T) {
	mem := &fakeMem{}
	pidfd := mem.put(0x1000, []byte{3, 0, 0, 0})
	ptid := mem.put(0x1010, []byte{0xd2, 0x04, 0, 0})
	args := func(va uint64, f ...uint64) uint64 {
		a := make([]uint64, cloneArgsSize/8)
		copy(a, f)
		return mem.ptrs(va, a...)
	}
	// flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls
	fork := args(0x2000, clonePidfd|cloneParentSettid|cloneChildSettid, pidfd, 0x7f00, ptid, 17, 0, 0)
	bogus := args(0x3000, 0xface3eefbeefc0de, 0, 0, 0, 0x1e55c0de)
	unknown := args(0x4000, 0xdec0deac0040007f, 0, 0, 0, 250, 0xface1e55beeff00d, 0xcaffeedefacedca7)
	setTids := mem.put(0x5000, []byte{1, 0, 0, 0, 2, 0, 0, 0})
	tids := args(0x6000, cloneIntoCgroup, 0, 0, 0, 17, 0, 0, 0, setTids, 2, 7)
	d := NewDecoder(Options{})
	checkLines(t, d, mem, []lineCase{
		{435, 1234, []uint64{fork, 88},
			`clone3({flags=CLONE_PIDFD|CLONE_PARENT_SETTID|CLONE_CHILD_SETTID, pidfd=0x1000, child_tid=0x7f00, parent_tid=0x1010, exit_signal=SIGCHLD, stack=NULL, stack_size=0} => {pidfd=[3], parent_tid=[1234]}, 88) = 1234`},
		{435, -22, []uint64{fork, 88},
			`clone3({flags=CLONE_PIDFD|CLONE_PARENT_SETTID|CLONE_CHILD_SETTID, pidfd=0x1000, child_tid=0x7f00, parent_tid=0x1010, exit_signal=SIGCHLD, stack=NULL, stack_size=0}, 88) = -1 EINVAL (Invalid argument)`},
		// tests/clone3.c's.
		{435, -22, []uint64{bogus, 64},
			`clone3({flags=CLONE_VFORK|CLONE_PARENT|CLONE_THREAD|CLONE_NEWNS|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_CHILD_CLEARTID|CLONE_UNTRACED|CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWPID|CLONE_IO|CLONE_NEWTIME|CLONE_CLEAR_SIGHAND|CLONE_INTO_CGROUP|0xface3eec0040005e, child_tid=NULL, exit_signal=508936414, stack=NULL, stack_size=0, tls=NULL}, 64) = -1 EINVAL (Invalid argument)`},
		{435, -22, []uint64{unknown, 64},
			`clone3({flags=0xdec0deac0040007f /* CLONE_??? */, exit_signal=250, stack=0xface1e55beeff00d, stack_size=0xcaffeedefacedca7}, 64) = -1 EINVAL (Invalid argument)`},
		{435, 99, []uint64{tids, 88},
			`clone3({flags=CLONE_INTO_CGROUP, exit_signal=SIGCHLD, stack=NULL, stack_size=0, set_tid=[1, 2], set_tid_size=2, cgroup=7}, 88) = 99`},
		// Shorter than the first version of the struct: a pointer.
		{435, -22, []uint64{fork, 63}, `clone3(0x2000, 63) = -1 EINVAL (Invalid argument)`},
		{435, -14, []uint64{0x9000, 88}, `clone3(0x9000, 88) = -1 EFAULT (Bad address)`},
	})
	// The entry shows the struct already.
	enter, _ := run(d, mem, 435, 1234, fork, 88)
	if got, want := line(&enter), `clone3({flags=CLONE_PIDFD|CLONE_PARENT_SETTID|CLONE_CHILD_SETTID, pidfd=0x1000, child_tid=0x7f00, parent_tid=0x1010, exit_signal=SIGCHLD, stack=NULL, stack_size=0}, 88)`; got != want {
		t.Errorf("entry: got %s\nwant %s", got, want)
	}
}

// stackMem is guest memory that knows the stack pointer of the call.
type stackMem struct {
	fakeMem
	sp uint64
}

func (m *stackMem) StackPointer() (uint64, bool) { return m.sp, m.sp != 0 }

func TestSigreturn(t *testing.T) {
	mem := &stackMem{sp: 0x7ffd0000}
	mask := uint64(1<<(2-1) | 1<<(15-1) | 1<<(33-1)) // INT TERM RT_1
	mem.put(mem.sp+296, binary.LittleEndian.AppendUint64(nil, mask))
	d := NewDecoder(Options{})
	enter, exit := run(d, mem, 15, 0)
	want := `rt_sigreturn({mask=[INT TERM RT_1]})`
	if got := line(&enter); got != want {
		t.Errorf("entry: got %s, want %s", got, want)
	}
	if got := line(&exit); got != want+" = 0" {
		t.Errorf("exit: got %s, want %s = 0", got, want)
	}
	if got := ArgRegister(&exit, 0); got != -1 {
		t.Errorf("rt_sigreturn's mask is register %d, want none", got)
	}
	// The exit alone has the interrupted code's registers: nothing to show.
	alone := backend.Syscall{Direction: kvm.Exit}
	d.Exit(&alone, 15, [6]uint64{}, 0, mem, nil)
	if got := line(&alone); got != "rt_sigreturn() = 0" {
		t.Errorf("exit without entry: got %s", got)
	}
	// A Memory that does not know the stack: as before.
	enter, _ = run(d, &mem.fakeMem, 15, 0)
	if got := line(&enter); got != "rt_sigreturn()" {
		t.Errorf("without the stack: got %s", got)
	}
	bad := &stackMem{sp: 0x5000}
	enter, _ = run(d, bad, 15, 0)
	if got := line(&enter); got != "rt_sigreturn({mask=0x5128})" {
		t.Errorf("unreadable frame: got %s", got)
	}

	// i386: rt_sigreturn's frame has the siginfo first; sigreturn's mask
	// is split between sigcontext.oldmask and extramask.
	m32 := &stackMem{sp: 0xffffd000}
	m32.put(m32.sp+248, binary.LittleEndian.AppendUint64(nil, 1<<(10-1)))
	m32.put(m32.sp+80, []byte{0, 0x02, 0, 0}) // USR1 is signal 10: bit 9
	m32.put(m32.sp+712, []byte{1, 0, 0, 0})   // signal 33
	checkI386(t, d, m32, []i386Case{
		{173, 0, nil, `rt_sigreturn({mask=[USR1]}) = 0`},
		{119, 0, nil, `sigreturn({mask=[USR1 RT_1]}) = 0`},
	})
}
