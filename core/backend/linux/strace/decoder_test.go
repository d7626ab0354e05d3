package strace

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"nitro/core/backend"
	"nitro/core/kvm"
)

const (
	atFdcwd  = uint64(0xffffffffffffff9c) // -100 as the register holds it
	eNOENT   = -2
	nrOpenat = 257
)

// The probe's exact sequence (lab/guest/probe.c), entry and exit.
func TestProbeSequence(t *testing.T) {
	mem := &fakeMem{}
	input := mem.str(0x401000, "/etc/nitro/probe-input")
	marker := mem.str(0x401100, "/tmp/nitro-probe-marker")
	missing := mem.str(0x401200, "/nonexistent/nitro-probe")
	content := mem.put(0x402000, []byte("nitro-probe marker\n"))
	inbuf := mem.put(0x7ffd0000, append([]byte("nitro probe input\n"), make([]byte, 110)...))
	out := mem.put(0x7ffd1000, []byte("nitro-probe: read 18 bytes: nitro probe input\n"))

	d := NewDecoder(Options{})
	cases := []struct {
		nr          uint64
		ret         int64
		args        []uint64
		enter, exit string
	}{
		{257, 3, []uint64{atFdcwd, input, 0}, `openat(AT_FDCWD, "/etc/nitro/probe-input", O_RDONLY)`,
			`openat(AT_FDCWD, "/etc/nitro/probe-input", O_RDONLY) = 3`},
		{0, 18, []uint64{3, inbuf, 128}, `read(3, 0x7ffd0000, 128)`, `read(3, "nitro probe input\n", 128) = 18`},
		{3, 0, []uint64{3}, `close(3)`, `close(3) = 0`},
		{257, 3, []uint64{atFdcwd, marker, 0o1101, 0o644},
			`openat(AT_FDCWD, "/tmp/nitro-probe-marker", O_WRONLY|O_CREAT|O_TRUNC, 0644)`,
			`openat(AT_FDCWD, "/tmp/nitro-probe-marker", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 3`},
		{1, 19, []uint64{3, content, 19}, `write(3, "nitro-probe marker\n", 19)`, `write(3, "nitro-probe marker\n", 19) = 19`},
		{257, eNOENT, []uint64{atFdcwd, missing, 0}, `openat(AT_FDCWD, "/nonexistent/nitro-probe", O_RDONLY)`,
			`openat(AT_FDCWD, "/nonexistent/nitro-probe", O_RDONLY) = -1 ENOENT (No such file or directory)`},
		{87, 0, []uint64{marker}, `unlink("/tmp/nitro-probe-marker")`, `unlink("/tmp/nitro-probe-marker") = 0`},
		{1, 46, []uint64{1, out, 46}, `write(1, "nitro-probe: read 18 bytes: nitr"..., 46)`,
			`write(1, "nitro-probe: read 18 bytes: nitr"..., 46) = 46`},
		{231, 0, []uint64{0}, `exit_group(0) = ?`, `exit_group(0) = 0`},
	}
	for _, c := range cases {
		enter, exit := run(d, mem, c.nr, c.ret, c.args...)
		if got := line(&enter); got != c.enter {
			t.Errorf("enter:\n got %s\nwant %s", got, c.enter)
		}
		if got := line(&exit); got != c.exit {
			t.Errorf("exit:\n got %s\nwant %s", got, c.exit)
		}
	}
	_, exit := run(d, mem, 257, eNOENT, atFdcwd, missing, 0)
	if exit.Ret != -2 || exit.Errno != "ENOENT" || !exit.Failed() {
		t.Errorf("failed openat: Ret %d Errno %q Failed %v, want -2 ENOENT true", exit.Ret, exit.Errno, exit.Failed())
	}
	if exit.Args[1].Raw != missing {
		t.Errorf("path arg raw = %#x, want %#x", exit.Args[1].Raw, missing)
	}
}

func TestExitWithoutEntry(t *testing.T) {
	mem := &fakeMem{}
	buf := mem.put(0x10000, []byte("hello"))
	d := NewDecoder(Options{})
	sc := backend.Syscall{Direction: kvm.Exit}
	d.Exit(&sc, 0, [6]uint64{5, buf, 4096}, 5, mem, nil)
	if got, want := line(&sc), `read(5, "hello", 4096) = 5`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestExitReadsWhatEntryCouldNot: a fresh program's string may be paged in
// only by the call itself; the exit shows it once it is there.
func TestExitReadsWhatEntryCouldNot(t *testing.T) {
	mem := &fakeMem{}
	const path = 0x4020a0
	args := [6]uint64{0xffffffffffffff9c, path, 0} // AT_FDCWD, path, O_RDONLY
	d := NewDecoder(Options{})
	enter := backend.Syscall{Direction: kvm.Enter}
	d.Enter(&enter, nrOpenat, args, mem)
	if got := enter.Args[1].Text; got != "0x4020a0" {
		t.Fatalf("unmapped path at entry shows %s, want the pointer", got)
	}
	mem.str(path, "/etc/nitro/probe-input")
	exit := backend.Syscall{Direction: kvm.Exit}
	d.Exit(&exit, nrOpenat, args, 3, mem, enter.Args)
	if got, want := line(&exit), `openat(AT_FDCWD, "/etc/nitro/probe-input", O_RDONLY) = 3`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestExecve(t *testing.T) {
	mem := &fakeMem{}
	path := mem.str(0x1000, "/bin/ls")
	a0, a1, a2 := mem.str(0x2000, "ls"), mem.str(0x2100, "-l"), mem.str(0x2200, "/tmp")
	argv := mem.ptrs(0x3000, a0, a1, a2, 0)
	envp := mem.ptrs(0x4000, a0, a1, 0)
	d := NewDecoder(Options{})
	enter, _ := run(d, mem, 59, 0, path, argv, envp)
	want := `execve("/bin/ls", ["ls", "-l", "/tmp"], 0x4000 /* 2 vars */)`
	if got := line(&enter); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}

	// More elements than ArrayLimit, and an argv that runs into unmapped memory.
	d = NewDecoder(Options{ArrayLimit: 2})
	enter, _ = run(d, mem, 59, 0, path, argv, 0)
	if got, want := line(&enter), `execve("/bin/ls", ["ls", "-l", ...], NULL)`; got != want {
		t.Errorf("capped: got %s, want %s", got, want)
	}
	open := mem.ptrs(0x6000-16, a0, a1) // no NULL terminator before unmapped memory
	enter, _ = run(NewDecoder(Options{}), mem, 59, 0, path, open, 0xdead0000)
	if got, want := line(&enter), `execve("/bin/ls", 0x5ff0, 0xdead0000)`; got != want {
		t.Errorf("unterminated: got %s, want %s", got, want)
	}
}

func TestStat(t *testing.T) {
	mem := &fakeMem{}
	path := mem.str(0x1000, "/etc/hostname")
	st := make([]byte, statSize)
	binary.LittleEndian.PutUint32(st[24:], 0o100644)
	binary.LittleEndian.PutUint64(st[48:], 7)
	stp := mem.put(0x2000, st)
	dev := make([]byte, statSize)
	binary.LittleEndian.PutUint32(dev[24:], 0o20620)
	binary.LittleEndian.PutUint64(dev[40:], 0x8801)
	devp := mem.put(0x3000, dev)
	stx := make([]byte, statxSize)
	binary.LittleEndian.PutUint32(stx, 0x17ff)
	binary.LittleEndian.PutUint16(stx[28:], 0o100644)
	binary.LittleEndian.PutUint64(stx[40:], 7)
	stxp := mem.put(0x4000, stx)
	dent := make([]byte, 48) // two records of 24 bytes
	binary.LittleEndian.PutUint16(dent[16:], 24)
	binary.LittleEndian.PutUint16(dent[24+16:], 24)
	dents := mem.put(0x5000, dent)
	loop := mem.put(0x6000, make([]byte, 48)) // d_reclen 0: must not loop
	d := NewDecoder(Options{})
	cases := []lineCase{
		{4, 0, []uint64{path, stp}, `stat("/etc/hostname", {st_mode=S_IFREG|0644, st_size=7, ...}) = 0`},
		{5, 0, []uint64{1, devp}, `fstat(1, {st_mode=S_IFCHR|0620, st_rdev=makedev(0x88, 0x1), ...}) = 0`},
		{262, 0, []uint64{atFdcwd, path, stp, 0x100}, `newfstatat(AT_FDCWD, "/etc/hostname", {st_mode=S_IFREG|0644, st_size=7, ...}, AT_SYMLINK_NOFOLLOW) = 0`},
		{5, -9, []uint64{42, stp}, `fstat(42, 0x2000) = -1 EBADF (Bad file descriptor)`},
		{332, 0, []uint64{atFdcwd, path, 0, 0xfff, stxp}, `statx(AT_FDCWD, "/etc/hostname", AT_STATX_SYNC_AS_STAT, STATX_ALL, {stx_mask=STATX_BASIC_STATS|STATX_MNT_ID, stx_attributes=0, stx_mode=S_IFREG|0644, stx_size=7, ...}) = 0`},
		{217, 48, []uint64{3, dents, 32768}, `getdents64(3, 0x5000 /* 2 entries */, 32768) = 48`},
		{217, 48, []uint64{3, loop, 32768}, `getdents64(3, 0x6000 /* d_reclen 19 bytes underflow */ /* 1+ entries */, 32768) = 48`},
		{5, 0, []uint64{1, 0x9000}, `fstat(1, 0x9000) = 0`},
	}
	checkLines(t, d, mem, cases)
}

func sockaddr(family uint16, rest ...byte) []byte {
	b := binary.LittleEndian.AppendUint16(nil, family)
	return append(b, rest...)
}

func TestSockaddr(t *testing.T) {
	mem := &fakeMem{}
	in4 := mem.put(0x1000, sockaddr(2, 0, 80, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0))
	in6 := mem.put(0x2000, sockaddr(10, append([]byte{0x01, 0xbb, 0, 0, 0, 0},
		append(make([]byte, 15), 1, 0, 0, 0, 0)...)...))
	un := mem.put(0x3000, sockaddr(1, append([]byte("/run/x.sock"), 0)...))
	abstract := mem.put(0x4000, sockaddr(1, append([]byte{0}, "bus\x1b"...)...))
	lenp := mem.put(0x5000, []byte{16, 0, 0, 0})
	d := NewDecoder(Options{})
	cases := []lineCase{
		{41, 3, []uint64{2, 1 | 0o2000000, 0}, `socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 3`},
		{42, 0, []uint64{3, in4, 16}, `connect(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}, 16) = 0`},
		{49, 0, []uint64{3, in6, 28}, `bind(3, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0`},
		{42, 0, []uint64{3, un, 14}, `connect(3, {sa_family=AF_UNIX, sun_path="/run/x.sock"}, 14) = 0`},
		{42, -111, []uint64{3, abstract, 7}, `connect(3, {sa_family=AF_UNIX, sun_path=@"bus\x1b"}, 7) = -1 ECONNREFUSED (Connection refused)`},
		{43, 4, []uint64{3, in4, lenp}, `accept(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}, [16]) = 4`},
		{42, 0, []uint64{3, 0xbad000, 16}, `connect(3, 0xbad000, 16) = 0`},
	}
	checkLines(t, d, mem, cases)
}

func TestFlagsAndStructs(t *testing.T) {
	mem := &fakeMem{}
	ts := mem.put(0x1000, binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 1), 500000000))
	fds := mem.put(0x2000, []byte{3, 0, 0, 0, 4, 0, 0, 0})
	set := mem.put(0x3000, binary.LittleEndian.AppendUint64(nil, 1<<1|1<<13))
	full := mem.put(0x3100, binary.LittleEndian.AppendUint64(nil, ^uint64(1<<8|1<<18)))
	uts := make([]byte, 6*utsFieldLen)
	copy(uts, "Linux")
	copy(uts[utsFieldLen:], "debian")
	utsp := mem.put(0x4000, uts)
	status := mem.put(0x5000, []byte{0, 1, 0, 0})
	iov := mem.ptrs(0x6000, mem.str(0x6100, "hi\n"), 3, mem.str(0x6200, "there"), 5)
	act := mem.ptrs(0x8000, 0x401000, saRestorer|0x10000000, 0x402000, 1<<14)
	old := mem.ptrs(0x8100, 0, 0, 0, 0)
	rlim := mem.ptrs(0x8200, 8192*1024, ^uint64(0))
	d := NewDecoder(Options{})
	cases := []lineCase{
		{9, 0x7f0000001000, []uint64{0, 8192, 3, 0x22, 0xffffffff, 0}, `mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000001000`},
		{10, 0, []uint64{0x7f0000001000, 4096, 0}, `mprotect(0x7f0000001000, 4096, PROT_NONE) = 0`},
		{56, 1234, []uint64{0x1200011, 0, 0, 0x7f00, 0}, `clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f00) = 1234`},
		{62, 0, []uint64{1, 15}, `kill(1, SIGTERM) = 0`},
		{13, 0, []uint64{2, act, old, 8}, `rt_sigaction(SIGINT, {sa_handler=0x401000, sa_mask=[TERM], sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x402000}, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = 0`},
		{13, 0, []uint64{34, 0, 0, 8}, `rt_sigaction(SIGRT_2, NULL, NULL, 8) = 0`},
		{14, 0, []uint64{0, set, 0, 8}, `rt_sigprocmask(SIG_BLOCK, [INT ALRM], NULL, 8) = 0`},
		{14, 0, []uint64{2, full, 0, 8}, `rt_sigprocmask(SIG_SETMASK, ~[KILL STOP], NULL, 8) = 0`},
		{202, 0, []uint64{0x1000, 0x81, 1}, `futex(0x1000, FUTEX_WAKE_PRIVATE, 1) = 0`},
		{202, -110, []uint64{0x1000, 0x80, 2, ts}, `futex(0x1000, FUTEX_WAIT_PRIVATE, 2, {tv_sec=1, tv_nsec=500000000}) = -1 ETIMEDOUT (Connection timed out)`},
		{35, 0, []uint64{ts, 0}, `nanosleep({tv_sec=1, tv_nsec=500000000}, NULL) = 0`},
		{228, 0, []uint64{1, ts}, `clock_gettime(CLOCK_MONOTONIC, {tv_sec=1, tv_nsec=500000000}) = 0`},
		{293, 0, []uint64{fds, 0o2000000}, `pipe2([3, 4], O_CLOEXEC) = 0`},
		{22, 0, []uint64{fds}, `pipe([3, 4]) = 0`},
		{302, 0, []uint64{0, 3, 0, rlim}, `prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = 0`},
		{97, -14, []uint64{7, rlim}, `getrlimit(RLIMIT_NOFILE, 0x8200) = -1 EFAULT (Bad address)`},
		{290, 3, []uint64{0, 0o4000 | 0o2000000}, `eventfd2(0, EFD_CLOEXEC|EFD_NONBLOCK) = 3`},
		{288, 4, []uint64{3, 0, 0, 0o2000000}, `accept4(3, NULL, NULL, SOCK_CLOEXEC) = 4`},
		{257, 3, []uint64{atFdcwd, mem.str(0x7200, "/tmp"), 0o20200002, 0o600}, `openat(AT_FDCWD, "/tmp", O_RDWR|O_TMPFILE, 0600) = 3`},
		{63, 0, []uint64{utsp}, `uname({sysname="Linux", nodename="debian", ...}) = 0`},
		{61, 99, []uint64{0xffffffffffffffff, status, 0, 0}, `wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 1}], 0, NULL) = 99`},
		{72, 0o2, []uint64{3, 3}, `fcntl(3, F_GETFL) = 0x2 (flags O_RDWR)`},
		{72, 0, []uint64{3, 2, 1}, `fcntl(3, F_SETFD, FD_CLOEXEC) = 0`},
		{72, 0, []uint64{3, 4, 0o4002}, `fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0`},
		{16, 0, []uint64{1, 0x5413, 0x7ffe}, `ioctl(1, TIOCGWINSZ, 0x7ffe) = 0`},
		{95, 0o22, []uint64{0o77}, `umask(077) = 022`},
		{12, 0x55000000, []uint64{0}, `brk(NULL) = 0x55000000`},
		{158, 0, []uint64{0x1002, 0x4c5380}, `arch_prctl(ARCH_SET_FS, 0x4c5380) = 0`},
		{20, 8, []uint64{1, iov, 2}, `writev(1, [{iov_base="hi\n", iov_len=3}, {iov_base="there", iov_len=5}], 2) = 8`},
		{8, 0, []uint64{3, 0, 2}, `lseek(3, 0, SEEK_END) = 0`},
		{21, -13, []uint64{mem.str(0x7000, "/x"), 6}, `access("/x", R_OK|W_OK) = -1 EACCES (Permission denied)`},
		{133, 0, []uint64{mem.str(0x7100, "/dev/null"), 0o20666, 0x103}, `mknod("/dev/null", S_IFCHR|0666, makedev(0x1, 0x3)) = 0`},
		{0, -512, []uint64{0, 0x1000, 1}, `read(0, 0x1000, 1) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)`},
		{400, -38, []uint64{1, 2, 3, 4, 5, 6}, `syscall_400(0x1, 0x2, 0x3, 0x4, 0x5, 0x6) = -1 ENOSYS (Function not implemented)`},
		{0, -4000, []uint64{0, 0x1000, 1}, `read(0, 0x1000, 1) = -1 ERRNO_4000 (Unknown error 4000)`},
	}
	checkLines(t, d, mem, cases)
}

func TestHostileStrings(t *testing.T) {
	mem := &fakeMem{}
	evil := mem.str(0x1000, "\x1b]0;pwned\x07\x1b[2J\"\\\xff")
	long := mem.str(0x2000, strings.Repeat("A", 100))
	exact := mem.str(0x3000, strings.Repeat("B", 32))
	// A path that ends exactly at the end of a page, before an unmapped one.
	edge := mem.put(0x4ff8, []byte("/a/b/c\x00\x00"))
	// No NUL before unmapped memory.
	open := mem.put(0x7000-13, []byte("/unterminated"))
	d := NewDecoder(Options{})
	cases := []lineCase{
		{87, 0, []uint64{evil}, `unlink("\x1b]0;pwned\x07\x1b[2J\"\\\xff") = 0`},
		{1, 5, []uint64{1, evil, 5}, `write(1, "\x1b]0;p", 5) = 5`},
		{1, 100, []uint64{1, long, 100}, `write(1, "` + strings.Repeat("A", 32) + `"..., 100) = 100`},
		{319, 3, []uint64{long, 0}, `memfd_create("` + strings.Repeat("A", 32) + `"..., 0) = 3`},
		{319, 3, []uint64{exact, 0}, `memfd_create("` + strings.Repeat("B", 32) + `", 0) = 3`},
		{87, 0, []uint64{edge}, `unlink("/a/b/c") = 0`},
		{87, 0, []uint64{open}, `unlink(0x6ff3) = 0`},
		{87, 0, []uint64{0xfffffffffffff000}, `unlink(0xfffffffffffff000) = 0`},
		{1, 5, []uint64{1, 0, 5}, `write(1, NULL, 5) = 5`},
		// A count the guest lies about: only StringLimit bytes are read.
		{1, 1 << 40, []uint64{1, long, 1 << 62}, `write(1, "` + strings.Repeat("A", 32) + `"..., 4611686018427387904) = 1099511627776`},
	}
	checkLines(t, d, mem, cases)
	d = NewDecoder(Options{StringLimit: 4})
	_, exit := run(d, mem, 87, 0, long)
	if got, want := line(&exit), `unlink("`+strings.Repeat("A", 100)+`") = 0`; got != want {
		t.Errorf("paths are not cut at StringLimit: got %s", got)
	}
	_, exit = run(d, mem, 1, 100, 1, long, 100)
	if got, want := line(&exit), `write(1, "AAAA"..., 100) = 100`; got != want {
		t.Errorf("StringLimit 4: got %s, want %s", got, want)
	}
}

// lineCase is one call, decoded at entry and exit, and its strace line.
type lineCase struct {
	nr   uint64
	ret  int64
	args []uint64
	want string
}

// checkLines decodes each case and compares its line, which must be
// terminal-safe whatever the guest's bytes.
func checkLines(t *testing.T, d *Decoder, mem Memory, cases []lineCase) {
	t.Helper()
	for _, c := range cases {
		_, exit := run(d, mem, c.nr, c.ret, c.args...)
		got := line(&exit)
		if got != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
		assertSafe(t, got)
	}
}

func assertSafe(t *testing.T, s string) {
	t.Helper()
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			t.Fatalf("byte %#x at %d is not terminal-safe in %q", s[i], i, s)
		}
	}
}

func TestLookup(t *testing.T) {
	for _, c := range []struct {
		name string
		nr   uint64
	}{{"read", 0}, {"openat", 257}, {"exit_group", 231}, {"mseal", 462}, {"syscall_400", 400}, {"59", 59}} {
		nr, err := Lookup(c.name)
		if err != nil || nr != c.nr {
			t.Errorf("Lookup(%q) = %d, %v; want %d", c.name, nr, err, c.nr)
		}
	}
	if _, err := Lookup("opneat"); !errors.Is(err, ErrUnknownSyscall) || !strings.Contains(err.Error(), `"opneat"`) {
		t.Errorf("Lookup(opneat) error = %v, want ErrUnknownSyscall naming it", err)
	}
	if err := Check("mmap2"); err != nil { // i386's alone
		t.Errorf("Check(mmap2): %v", err)
	}
	if err := Check("bogus"); !errors.Is(err, ErrUnknownSyscall) {
		t.Errorf("Check(bogus): %v", err)
	}
	name := x8664Calls.Name
	if name(336) != "syscall_336" || name(1<<40) != "syscall_1099511627776" || name(257) != "openat" {
		t.Errorf("Name: %s %s %s", name(336), name(1<<40), name(257))
	}
}
