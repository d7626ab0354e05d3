package strace

import (
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"testing"

	"nitro/core/backend"
)

// hi puts garbage in a register's upper half: an i386 call reads only the
// low 32 bits, whatever a 64-bit program doing int 0x80 left above them.
const hi = 0xdead_beef_0000_0000

// i386Case is one i386 call, decoded at entry and exit, and its strace line;
// ret is rax as the kernel left it.
type i386Case struct {
	nr   uint64
	ret  uint64
	args []uint64
	want string
}

func checkI386(t *testing.T, d *Decoder, mem Memory, cases []i386Case) {
	t.Helper()
	for _, c := range cases {
		_, exit := runABI(d, mem, backend.I386, c.nr, c.ret, c.args...)
		got := line(&exit)
		if got != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
		assertSafe(t, got)
	}
}

// neg is -e as rax holds an i386 call's error: the kernel sign-extends it.
func neg(e int64) uint64 { return uint64(-e) }

// The probe's sequence made by a 32-bit program, entry and exit.
func TestI386ProbeSequence(t *testing.T) {
	mem := &fakeMem{}
	input := mem.str(0x8049000, "/etc/nitro/probe-input")
	marker := mem.str(0x8049100, "/tmp/nitro-probe-marker")
	missing := mem.str(0x8049200, "/nonexistent/nitro-probe")
	content := mem.put(0x804a000, []byte("nitro-probe marker\n"))
	inbuf := mem.put(0xffffd000, append([]byte("nitro probe input\n"), make([]byte, 110)...))
	argv := mem.ptrs32(0x804b000, uint32(input), uint32(marker), 0)
	envp := mem.ptrs32(0x804b100, uint32(input), 0)

	d := NewDecoder(Options{})
	cases := []struct {
		nr          uint64
		ret         uint64
		args        []uint64
		enter, exit string
	}{
		{11, 0, []uint64{input, hi | argv, envp}, `execve("/etc/nitro/probe-input", ["/etc/nitro/probe-input", "/tmp/nitro-probe-marker"], 0x804b100 /* 1 var */)`,
			`execve("/etc/nitro/probe-input", ["/etc/nitro/probe-input", "/tmp/nitro-probe-marker"], 0x804b100 /* 1 var */) = 0`},
		{20, 42, nil, `getpid()`, `getpid() = 42`},
		// AT_FDCWD as a 32-bit register holds it: zero-extended.
		{295, 3, []uint64{0xffffff9c, input, 0o100000}, `openat(AT_FDCWD, "/etc/nitro/probe-input", O_RDONLY|O_LARGEFILE)`,
			`openat(AT_FDCWD, "/etc/nitro/probe-input", O_RDONLY|O_LARGEFILE) = 3`},
		{3, 18, []uint64{hi | 3, inbuf, 128}, `read(3, 0xffffd000, 128)`, `read(3, "nitro probe input\n", 128) = 18`},
		{6, 0, []uint64{3}, `close(3)`, `close(3) = 0`},
		{5, 3, []uint64{marker, 0o1101, 0o644}, `open("/tmp/nitro-probe-marker", O_WRONLY|O_CREAT|O_TRUNC, 0644)`,
			`open("/tmp/nitro-probe-marker", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 3`},
		{4, 19, []uint64{3, content, 19}, `write(3, "nitro-probe marker\n", 19)`, `write(3, "nitro-probe marker\n", 19) = 19`},
		{5, neg(2), []uint64{missing, 0}, `open("/nonexistent/nitro-probe", O_RDONLY)`,
			`open("/nonexistent/nitro-probe", O_RDONLY) = -1 ENOENT (No such file or directory)`},
		{10, 0, []uint64{marker}, `unlink("/tmp/nitro-probe-marker")`, `unlink("/tmp/nitro-probe-marker") = 0`},
		{252, 0, []uint64{0}, `exit_group(0) = ?`, `exit_group(0) = 0`},
	}
	for _, c := range cases {
		enter, exit := runABI(d, mem, backend.I386, c.nr, c.ret, c.args...)
		if got := line(&enter); got != c.enter {
			t.Errorf("enter:\n got %s\nwant %s", got, c.enter)
		}
		if got := line(&exit); got != c.exit {
			t.Errorf("exit:\n got %s\nwant %s", got, c.exit)
		}
	}

	// An error in eax alone, whatever the upper half holds.
	_, exit := runABI(d, mem, backend.I386, 5, 0x1234_5678_ffff_fffe, missing, 0)
	if exit.Errno != "ENOENT" || !exit.Failed() || exit.Ret != 0x1234_5678_ffff_fffe {
		t.Errorf("failed open: Ret %#x Errno %q Failed %v, want the raw rax, ENOENT, true", exit.Ret, exit.Errno, exit.Failed())
	}
	// Raw keeps the truncated register; text shows signed kinds signed.
	_, exit = runABI(d, mem, backend.I386, 295, 3, hi|0xffffff9c, hi|input, 0)
	if exit.Name != "openat" || exit.Nr != 295 || exit.Args[0].Raw != 0xffffff9c || exit.Args[1].Raw != input {
		t.Errorf("openat: %s nr %d raws %#x %#x", exit.Name, exit.Nr, exit.Args[0].Raw, exit.Args[1].Raw)
	}
	_, exit = runABI(d, mem, backend.I386, 6, neg(9), hi|0xffffffff)
	if got, want := line(&exit), `close(-1) = -1 EBADF (Bad file descriptor)`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	// The same numbers mean other calls on x86-64.
	_, exit = run(d, mem, 5, 0, 3, 0x2000)
	if exit.Name != "fstat" {
		t.Errorf("x86-64 call 5 is %s, want fstat", exit.Name)
	}
}

// TestSocketcall decodes the socket calls of classic 32-bit code, as
// shellcode makes them: socketcall with the sub-call's arguments in memory.
func TestSocketcall(t *testing.T) {
	mem := &fakeMem{}
	in4 := uint32(mem.put(0x1000, sockaddr(2, 0x11, 0x5c, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0))) // port 4444
	lenp := uint32(mem.put(0x1100, []byte{16, 0, 0, 0}))
	socket := mem.ptrs32(0x2000, 2, 1, 0)
	connect := mem.ptrs32(0x2100, 3, in4, 16)
	accept := mem.ptrs32(0x2200, 3, in4, lenp)
	send := mem.ptrs32(0x2300, 3, uint32(mem.str(0x2400, "\x1b[2Jid\n")), 7, 0)
	short := mem.ptrs32(0x2ffc, 3) // the block runs into unmapped memory
	checkI386(t, NewDecoder(Options{}), mem, []i386Case{
		{102, 3, []uint64{1, socket}, `socketcall(SYS_SOCKET, [AF_INET, SOCK_STREAM, IPPROTO_IP]) = 3`},
		{102, 0, []uint64{3, connect}, `socketcall(SYS_CONNECT, [3, {sa_family=AF_INET, sin_port=htons(4444), sin_addr=inet_addr("10.0.0.1")}, 16]) = 0`},
		{102, neg(111), []uint64{hi | 3, hi | connect}, `socketcall(SYS_CONNECT, [3, {sa_family=AF_INET, sin_port=htons(4444), sin_addr=inet_addr("10.0.0.1")}, 16]) = -1 ECONNREFUSED (Connection refused)`},
		{102, 4, []uint64{5, accept}, `socketcall(SYS_ACCEPT, [3, {sa_family=AF_INET, sin_port=htons(4444), sin_addr=inet_addr("10.0.0.1")}, [16]]) = 4`},
		{102, 7, []uint64{9, send}, `socketcall(SYS_SEND, [3, "\x1b[2Jid\n", 7, 0]) = 7`},
		{102, 0, []uint64{3, short}, `socketcall(SYS_CONNECT, 0x2ffc) = 0`},
		{102, neg(22), []uint64{99, socket}, `socketcall(99, 0x2000) = -1 EINVAL (Invalid argument)`},
	})
	// At entry the sockaddr accept writes is still a pointer.
	enter, _ := runABI(NewDecoder(Options{}), mem, backend.I386, 102, 4, 5, accept)
	if got, want := line(&enter), `socketcall(SYS_ACCEPT, [3, 0x1000, [16]])`; !strings.HasPrefix(got, want) {
		t.Errorf("accept at entry: %s, want %s", got, want)
	}
}

func TestI386Structs(t *testing.T) {
	mem := &fakeMem{}
	path := mem.str(0x1000, "/etc/hostname")
	st := make([]byte, stat64Size)
	binary.LittleEndian.PutUint32(st[16:], 0o100644)
	binary.LittleEndian.PutUint64(st[44:], 7)
	stp := mem.put(0x2000, st)
	dev := make([]byte, stat64Size)
	binary.LittleEndian.PutUint32(dev[16:], 0o20620)
	binary.LittleEndian.PutUint64(dev[32:], 0x8801)
	devp := mem.put(0x2100, dev)
	ts32 := mem.ptrs32(0x3000, 1, 500000000)
	ts64 := mem.ptrs(0x3100, 1, 500000000)
	iov := mem.ptrs32(0x4000, uint32(mem.str(0x4100, "hi\n")), 3, uint32(mem.str(0x4200, "there")), 5)
	act := mem.ptrs32(0x5000, 0x8049000, saRestorer|0x10000000, 0x8048000, 1<<14, 0)
	old := mem.ptrs32(0x5100, 1, 0, 0, 0, 0)
	buf := mem.put(0x6000, []byte("abc"))
	fds := mem.ptrs32(0x7000, 3, 4)
	d := NewDecoder(Options{})
	cases := []i386Case{
		{195, 0, []uint64{path, stp}, `stat64("/etc/hostname", {st_mode=S_IFREG|0644, st_size=7, ...}) = 0`},
		{197, 0, []uint64{1, devp}, `fstat64(1, {st_mode=S_IFCHR|0620, st_rdev=makedev(0x88, 0x1), ...}) = 0`},
		{300, 0, []uint64{0xffffff9c, path, stp, 0x100}, `fstatat64(AT_FDCWD, "/etc/hostname", {st_mode=S_IFREG|0644, st_size=7, ...}, AT_SYMLINK_NOFOLLOW) = 0`},
		{108, 0, []uint64{1, stp}, `fstat(1, 0x2000) = 0`}, // struct stat of i386: a pointer
		{162, 0, []uint64{ts32, 0}, `nanosleep({tv_sec=1, tv_nsec=500000000}, NULL) = 0`},
		{265, 0, []uint64{1, ts32}, `clock_gettime(CLOCK_MONOTONIC, {tv_sec=1, tv_nsec=500000000}) = 0`},
		{403, 0, []uint64{1, ts64}, `clock_gettime64(CLOCK_MONOTONIC, {tv_sec=1, tv_nsec=500000000}) = 0`},
		{240, 0, []uint64{0x1000, 0x81, 1}, `futex(0x1000, FUTEX_WAKE_PRIVATE, 1) = 0`},
		{240, neg(110), []uint64{0x1000, 0x80, 2, ts32}, `futex(0x1000, FUTEX_WAIT_PRIVATE, 2, {tv_sec=1, tv_nsec=500000000}) = -1 ETIMEDOUT (Connection timed out)`},
		{422, neg(110), []uint64{0x1000, 0x80, 2, ts64}, `futex_time64(0x1000, FUTEX_WAIT_PRIVATE, 2, {tv_sec=1, tv_nsec=500000000}) = -1 ETIMEDOUT (Connection timed out)`},
		{146, 8, []uint64{1, iov, 2}, `writev(1, [{iov_base="hi\n", iov_len=3}, {iov_base="there", iov_len=5}], 2) = 8`},
		{174, 0, []uint64{2, act, old, 8}, `rt_sigaction(SIGINT, {sa_handler=0x8049000, sa_mask=[TERM], sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x8048000}, {sa_handler=SIG_IGN, sa_mask=[], sa_flags=0}, 8) = 0`},
		{192, 0xf7f00000, []uint64{0, 8192, 3, 0x22, hi | 0xffffffff, 2}, `mmap2(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0x2000) = 0xf7f00000`},
		{45, 0x0804c000, []uint64{0}, `brk(NULL) = 0x804c000`},
		{180, 3, []uint64{3, buf, 100, 4096, 1}, `pread64(3, "abc", 100, 4096, 1) = 3`},
		{140, 0, []uint64{3, 0, 1024, 0x8000, 0}, `_llseek(3, 0, 1024, 0x8000, SEEK_SET) = 0`},
		{221, 0o2, []uint64{3, 3}, `fcntl64(3, F_GETFL) = 0x2 (flags O_RDWR)`},
		{221, 0, []uint64{3, 2, 1}, `fcntl64(3, F_SETFD, FD_CLOEXEC) = 0`},
		{55, 0, []uint64{3, 4, 0o4002}, `fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0`},
		{331, 0, []uint64{fds, 0o2000000}, `pipe2([3, 4], O_CLOEXEC) = 0`},
		{328, 5, []uint64{0, 0o4000}, `eventfd2(0, EFD_NONBLOCK) = 5`},
		{19, 0, []uint64{3, 0xffffffff, 1}, `lseek(3, -1, SEEK_CUR) = 0`},
		{500, neg(38), []uint64{hi | 1, 2, 3, 4, 5, 6}, `syscall_500(0x1, 0x2, 0x3, 0x4, 0x5, 0x6) = -1 ENOSYS (Function not implemented)`},
	}
	checkI386(t, d, mem, cases)
}

func TestI386HostileStrings(t *testing.T) {
	mem := &fakeMem{}
	evil := mem.str(0x1000, "\x1b]0;pwned\x07\x1b[2J\"\\\xff")
	long := mem.str(0x2000, strings.Repeat("A", 100))
	argv := mem.ptrs32(0x3000, uint32(evil), uint32(long), 0)
	open := mem.ptrs32(0x5000-8, uint32(evil), uint32(evil)) // no NULL before unmapped memory
	d := NewDecoder(Options{})
	cases := []i386Case{
		{10, 0, []uint64{evil}, `unlink("\x1b]0;pwned\x07\x1b[2J\"\\\xff") = 0`},
		{4, 5, []uint64{1, hi | evil, 5}, `write(1, "\x1b]0;p", 5) = 5`},
		{11, 0, []uint64{evil, argv, 0}, `execve("\x1b]0;pwned\x07\x1b[2J\"\\\xff", ["\x1b]0;pwned\x07\x1b[2J\"\\\xff", "` + strings.Repeat("A", 32) + `"...], NULL) = 0`},
		{11, 0, []uint64{evil, open, 0}, `execve("\x1b]0;pwned\x07\x1b[2J\"\\\xff", 0x4ff8, NULL) = 0`},
		// A count the guest lies about: only StringLimit bytes are read.
		{4, 100, []uint64{1, long, 0xffffffff}, `write(1, "` + strings.Repeat("A", 32) + `"..., 4294967295) = 100`},
	}
	checkI386(t, d, mem, cases)
}

func TestI386Table(t *testing.T) {
	tab := For(backend.I386)
	for nr, name := range map[uint64]string{
		0: "restart_syscall", 1: "exit", 3: "read", 4: "write", 5: "open", 6: "close", 10: "unlink",
		11: "execve", 20: "getpid", 55: "fcntl", 64: "getppid", 102: "socketcall", 117: "ipc",
		140: "_llseek", 192: "mmap2", 195: "stat64", 221: "fcntl64", 240: "futex", 252: "exit_group",
		295: "openat", 383: "statx", 386: "rseq", 393: "semget", 402: "msgctl", 403: "clock_gettime64",
		414: "ppoll_time64", 416: "io_pgetevents_time64", 422: "futex_time64", 435: "clone3", 453: "map_shadow_stack",
		462: "mseal",
	} {
		if got := tab.Name(nr); got != name {
			t.Errorf("i386 %d is %s, want %s", nr, got, name)
		}
	}
	for _, nr := range []uint64{222, 223, 251, 285, 387, 392, 415, 463, 1 << 40} {
		if tab.Known(nr) || tab.Name(nr) != "syscall_"+strconv.FormatUint(nr, 10) {
			t.Errorf("i386 %d is %s, want no call", nr, tab.Name(nr))
		}
	}
	if _, err := tab.Lookup("uretprobe"); !errors.Is(err, ErrUnknownSyscall) {
		t.Errorf("i386 Lookup(uretprobe) = %v, want ErrUnknownSyscall", err)
	}
	if nr, err := tab.Lookup("syscall_222"); nr != 222 || err != nil {
		t.Errorf("i386 Lookup(syscall_222) = %d, %v", nr, err)
	}
	// The calls the decoder treats specially are calls, and marked so in
	// each table that has them.
	for name, sp := range specials {
		found := false
		for _, t2 := range []*Syscalls{tab, x8664Calls} {
			if nr, err := t2.Lookup(name); err == nil && t2.Known(nr) {
				found = true
				if t2.table[nr].sp != sp {
					t.Errorf("%s is not marked special in its table", name)
				}
			}
		}
		if !found {
			t.Errorf("special %s is in no table", name)
		}
	}
	// The package-level functions are x86-64's.
	x := For(backend.X8664)
	if nr, err := Lookup("openat"); x != x8664Calls || err != nil || nr != 257 || !Known(0) || tab == x {
		t.Errorf("For(X8664) is not the package's default table")
	}
	if got := Result(&backend.Syscall{ABI: backend.I386, Nr: 252}); got != "?" {
		t.Errorf("i386 exit_group entry result %q, want ?", got)
	}
}
