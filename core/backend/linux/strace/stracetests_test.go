package strace

import (
	"strings"
	"testing"

	"nitro/core/backend"
	"nitro/core/kvm"
)

// TestStraceTestPrograms checks lines that strace 6.1's own test programs
// (tests/*.c of its source) print as what strace must show for their
// calls, where `make strace-oracle` found nitro's text differing.
func TestStraceTestPrograms(t *testing.T) {
	mem := &fakeMem{}
	// chdir.c: a path of PATH_MAX '/' with no NUL, ending where the page
	// after it is unmapped: strace reads PATH_MAX bytes and shows the
	// first PATH_MAX - 1.
	slashes := mem.put(0x10000, []byte(strings.Repeat("/", pageSize)))
	// Then with the NUL as its last byte: the whole path.
	whole := mem.str(0x20000, strings.Repeat("/", pageSize-1))
	sample := mem.str(0x30000, "chown_sample")
	creat := mem.str(0x30100, "/strace-tests/creat")
	// clock_nanosleep.c, clock_xettime.c: a timespec of fill patterns.
	bogus := mem.ptrs(0x30200, 0xcafef00ddeadbeef, 0xbadc0dedfacefeed)
	d := NewDecoder(Options{})
	checkLines(t, d, mem, []lineCase{
		// creat.c: the mode as (unsigned short), as umask's.
		{85, -26, []uint64{creat, 0xffff0000}, `creat("/strace-tests/creat", 000) = -1 ETXTBSY (Text file busy)`},
		// chown.c: uids and gids unsigned, but for -1.
		{92, -2, []uint64{sample, 0xffff0000, 0}, `chown("chown_sample", 4294901760, 0) = -1 ENOENT (No such file or directory)`},
		{92, -2, []uint64{sample, 0xffffffff, 0xffffffffffffffff}, `chown("chown_sample", -1, -1) = -1 ENOENT (No such file or directory)`},
		{105, -1, []uint64{0xffff0000}, `setuid(4294901760) = -1 EPERM (Operation not permitted)`},
		// tv_nsec unsigned.
		{230, -22, []uint64{1, 0, bogus, 0x7fffb6954020}, `clock_nanosleep(CLOCK_MONOTONIC, 0, {tv_sec=-3819351491602432273, tv_nsec=13464652301697220333}, 0x7fffb6954020) = -1 EINVAL (Invalid argument)`},
		// umask.c: umask(0xffff0000 | mode), shown as (unsigned short) mode.
		{95, 0o22, []uint64{0xffff0000}, `umask(000) = 022`},
		{95, 0, []uint64{0xffff0000 | 0o126}, `umask(0126) = 000`},
		{95, 0o126, []uint64{0xffff0000 | 0o107777}, `umask(0107777) = 0126`},
		{95, 0o7777, []uint64{0xffffffff}, `umask(0177777) = 07777`},
		{80, -36, []uint64{slashes}, `chdir("` + strings.Repeat("/", pageSize-1) + `"...) = -1 ENAMETOOLONG (File name too long)`},
		{80, -36, []uint64{whole}, `chdir("` + strings.Repeat("/", pageSize-1) + `") = -1 ENAMETOOLONG (File name too long)`},
	})
}

func TestStraceTestProgramsFlagsAndLimits(t *testing.T) {
	mem := &fakeMem{}
	rlim := mem.ptrs(0x8200, 1024, 4096)
	name := mem.put(0x4fc0, []byte(strings.Repeat("\x80", 64))) // the page after is unmapped
	checkLines(t, NewDecoder(Options{}), mem, []lineCase{
		// getrlimit.c: 1024 itself is not 1*1024.
		{97, 0, []uint64{7, rlim}, `getrlimit(RLIMIT_NOFILE, {rlim_cur=1024, rlim_max=4*1024}) = 0`},
		// inotify_init1.c: strace's table has IN_NONBLOCK first.
		{294, -22, []uint64{0xdeadbeef | 0o4000 | 0o2000000}, `inotify_init1(IN_NONBLOCK|IN_CLOEXEC|0xdea5b6ef) = -1 EINVAL (Invalid argument)`},
		// inotify_init1.c: with no flag it knows, strace's printflags form.
		{294, -22, []uint64{0xff96b77b}, `inotify_init1(0xff96b77b /* IN_??? */) = -1 EINVAL (Invalid argument)`},
		// userfaultfd.c: O_NONBLOCK first too, and a flag of its own.
		{323, 6, []uint64{0o4000 | 0o2000000}, `userfaultfd(O_NONBLOCK|O_CLOEXEC) = 6`},
		{323, 7, []uint64{1}, `userfaultfd(UFFD_USER_MODE_ONLY) = 7`},
		// mq_sendrecv.c: mq_open's name is a path (PATH_MAX bytes read:
		// none here, so its address); its mode and attributes only with O_CREAT.
		{240, -14, []uint64{name, 0o103, 0xdefacedfacefeed, 0}, `mq_open(0x4fc0, O_ACCMODE|O_CREAT, 0177355, NULL) = -1 EFAULT (Bad address)`},
		{240, -14, []uint64{0, 0, 0xdefaced, 0xbadc0ded}, `mq_open(NULL, O_RDONLY) = -1 EFAULT (Bad address)`},
		// epoll_create1.c: epoll's has no NONBLOCK.
		{291, -22, []uint64{0o2000000 | 0o4000}, `epoll_create1(EPOLL_CLOEXEC|0x800) = -1 EINVAL (Invalid argument)`},
	})
}

// getsockname.c: a length the call changed shows as [given => set].
func TestStraceTestProgramsSocklen(t *testing.T) {
	mem := &fakeMem{}
	addr := mem.put(0x9000, make([]byte, 110))
	lenp := mem.put(0x9100, []byte{110, 0, 0, 0})
	d := NewDecoder(Options{})
	var a [6]uint64
	a[0], a[1], a[2] = 3, addr, lenp
	var enter, exit backend.Syscall
	enter.Direction, enter.ABI = kvm.Enter, backend.X8664
	d.Enter(&enter, 51, a, mem)
	sun := append([]byte{1, 0}, "getsockname.socket\x00"...)
	mem.put(addr, sun)
	mem.put(lenp, []byte{21, 0, 0, 0})
	exit.Direction, exit.ABI = kvm.Exit, backend.X8664
	d.Exit(&exit, 51, a, 0, mem, enter.Args)
	want := `getsockname(3, {sa_family=AF_UNIX, sun_path="getsockname.socket"}, [110 => 21]) = 0`
	if got := line(&exit); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// flock.c, and strace's flockcmds table.
func TestStraceTestProgramsFlock(t *testing.T) {
	checkLines(t, NewDecoder(Options{}), &fakeMem{}, []lineCase{
		{73, -9, []uint64{0xffffffff, 1}, `flock(-1, LOCK_SH) = -1 EBADF (Bad file descriptor)`},
		{73, 0, []uint64{3, 2 | 4}, `flock(3, LOCK_EX|LOCK_NB) = 0`},
		{73, -22, []uint64{3, 192 | 0x100}, `flock(3, LOCK_RW|0x100) = -1 EINVAL (Invalid argument)`},
	})
}

// mknod.c: the mode as (unsigned short), and the device only for a device
// file.
func TestStraceTestProgramsMknod(t *testing.T) {
	mem := &fakeMem{}
	path := mem.str(0x7000, "/strace-tests/mknod")
	checkLines(t, NewDecoder(Options{}), mem, []lineCase{
		{133, -17, []uint64{path, 0xffff0000, 0xdeadbeefbadc0ded}, `mknod("/strace-tests/mknod", 000) = -1 EEXIST (File exists)`},
		{133, -17, []uint64{path, 0o010600}, `mknod("/strace-tests/mknod", S_IFIFO|0600) = -1 EEXIST (File exists)`},
		{133, -17, []uint64{path, 0xffff0000 | 0o060600, 0x103}, `mknod("/strace-tests/mknod", S_IFBLK|0600, makedev(0x1, 0x3)) = -1 EEXIST (File exists)`},
		// A type strace has no name for: all octal; and the set-id bits by name.
		{133, -22, []uint64{path, 0xffff}, `mknod("/strace-tests/mknod", 0177777) = -1 EINVAL (Invalid argument)`},
		{133, -17, []uint64{path, 0o106755}, `mknod("/strace-tests/mknod", S_IFREG|S_ISUID|S_ISGID|0755) = -1 EEXIST (File exists)`},
		// The device is an unsigned int: so is ustat's (ustat.c).
		{133, -17, []uint64{path, 0o020024, 0xdeadbeef00000107}, `mknod("/strace-tests/mknod", S_IFCHR|024, makedev(0x1, 0x7)) = -1 EEXIST (File exists)`},
		{136, -22, []uint64{0xfacefeedffffffff, 0}, `ustat(makedev(0xfff, 0xfffff), NULL) = -1 EINVAL (Invalid argument)`},
	})
}

// rt_sigprocmask.c, rt_sigtimedwait.c, rt_sigpending.c: a set whose size
// strace does not take shows as its address; rt_sigpending's may be
// smaller than a word, and only that much is read.
func TestStraceTestProgramsSigsetSize(t *testing.T) {
	mem := &fakeMem{}
	set := mem.ptrs(0x5000, 0)
	last := mem.put(0x6ffc, []byte{0, 0, 0, 0}) // the page after is unmapped
	checkLines(t, NewDecoder(Options{}), mem, []lineCase{
		{14, -22, []uint64{2, set, 0x7ff8, 16}, `rt_sigprocmask(SIG_SETMASK, 0x5000, 0x7ff8, 16) = -1 EINVAL (Invalid argument)`},
		{14, 0, []uint64{2, set, 0, 8}, `rt_sigprocmask(SIG_SETMASK, [], NULL, 8) = 0`},
		{128, -22, []uint64{set, 0, 0, 128}, `rt_sigtimedwait(0x5000, NULL, NULL, 128) = -1 EINVAL (Invalid argument)`},
		{127, 0, []uint64{last, 4}, `rt_sigpending([], 4) = 0`},
	})
}

// Arguments strace prints in another base or width than their C type
// suggests: semop.c, lookup_dcookie.c, ioperm.c, sched_xetattr.c,
// remap_file_pages.c.
func TestStraceTestProgramsBases(t *testing.T) {
	checkLines(t, NewDecoder(Options{}), &fakeMem{}, []lineCase{
		{65, -7, []uint64{0xfffffffffdb97531, 0, 0xdefaceddeadbeef}, `semop(-38177487, NULL, 3735928559) = -1 E2BIG (Argument list too long)`},
		{212, -38, []uint64{0xf157feeddeadface, 0x7f3426e25000, 4096}, `lookup_dcookie(17390648783711107790, 0x7f3426e25000, 4096) = -1 ENOSYS (Function not implemented)`},
		{173, -22, []uint64{0xdeafbeefffffffff, 1, 0}, `ioperm(0xdeafbeefffffffff, 0x1, 0) = -1 EINVAL (Invalid argument)`},
		{315, -22, []uint64{0xffffffffffffffff, 0x7fc54dac1fc8, 0xcafef00d, 0xdefaceddeadc0de}, `sched_getattr(-1, 0x7fc54dac1fc8, 3405705229, 3735929054) = -1 EINVAL (Invalid argument)`},
		{216, -22, []uint64{0xfacefeeddeadbeef, 0xdefaced1bad2f00d, 7, 0xcaf3babebad4deed, 0x22}, `remap_file_pages(0xfacefeeddeadbeef, 16067382020775538701, PROT_READ|PROT_WRITE|PROT_EXEC, 14624237743343197933, MAP_PRIVATE|MAP_ANONYMOUS) = -1 EINVAL (Invalid argument)`},
	})
}

// xetpriority.c, xetitimer.c, sched_get_priority_mxx.c, xattr.c,
// renameat2.c: values and flags strace names.
func TestStraceTestProgramsNames(t *testing.T) {
	mem := &fakeMem{}
	old, neu := mem.str(0x7000, "renameat2_oldpath"), mem.str(0x7100, "renameat2_newpath")
	checkLines(t, NewDecoder(Options{}), mem, []lineCase{
		{140, 20, []uint64{0, 2046}, `getpriority(PRIO_PROCESS, 2046) = 20`},
		{38, 0, []uint64{0, 0, 0}, `setitimer(ITIMER_REAL, NULL, NULL) = 0`},
		{147, 1, []uint64{1}, `sched_get_priority_min(SCHED_FIFO) = 1`},
		{190, -9, []uint64{0xffffffff, 0, 0, 0, 1}, `fsetxattr(-1, NULL, NULL, 0, XATTR_CREATE) = -1 EBADF (Bad file descriptor)`},
		{316, -9, []uint64{0xffffffff, old, 0xffffffffffffff9c, neu, 1}, `renameat2(-1, "renameat2_oldpath", AT_FDCWD, "renameat2_newpath", RENAME_NOREPLACE) = -1 EBADF (Bad file descriptor)`},
	})
}
