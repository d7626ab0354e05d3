package strace

import (
	"testing"

	"nitro/core/backend"
	"nitro/core/kvm"
)

// Calls a glibc program makes (the lab's nitro-rich, lab/guest/rich.c, and
// small programs like it); the expected lines are strace 6.1's of them.

const (
	nrFutex      = 202
	nrSetsockopt = 54
	nrFcntl      = 72
)

func TestFutexBitset(t *testing.T) {
	checkLines(t, NewDecoder(Options{}), &fakeMem{}, []lineCase{
		// pthread_join: uaddr2 is left out, val3 shown last.
		{nrFutex, 0, []uint64{0x7f5805252990, 0x109, 149, 0, 0, 0xffffffff},
			`futex(0x7f5805252990, FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME, 149, NULL, FUTEX_BITSET_MATCH_ANY) = 0`},
		{nrFutex, -11, []uint64{0x55f0a34fb03c, 0x89, 1, 0, 0, 4},
			`futex(0x55f0a34fb03c, FUTEX_WAIT_BITSET_PRIVATE, 1, NULL, 0x4) = -1 EAGAIN (Resource temporarily unavailable)`},
		{nrFutex, 0, []uint64{0x55f0a34fb03c, 0x8a, 1, 0, 0, 2},
			`futex(0x55f0a34fb03c, FUTEX_WAKE_BITSET_PRIVATE, 1, 0x2) = 0`},
		{nrFutex, 0, []uint64{0x55f0a34fb03c, 10, 1, 0, 0, 0xffffffff},
			`futex(0x55f0a34fb03c, FUTEX_WAKE_BITSET, 1, FUTEX_BITSET_MATCH_ANY) = 0`},
	})
	// What an edit of the shown bitset changes: val3's register.
	sc := backend.Syscall{Direction: kvm.Enter, ABI: backend.X8664}
	NewDecoder(Options{}).Enter(&sc, nrFutex, [6]uint64{0x1000, 0x109, 1, 0, 0x2000, 0xffffffff}, &fakeMem{})
	if len(sc.Args) != 5 || ArgRegister(&sc, 3) != 3 || ArgRegister(&sc, 4) != 5 {
		t.Errorf("futex FUTEX_WAIT_BITSET: %d arguments, registers %d and %d for the last two, want 5, 3 and 5",
			len(sc.Args), ArgRegister(&sc, 3), ArgRegister(&sc, 4))
	}
}

func TestSetsockopt(t *testing.T) {
	mem := &fakeMem{}
	one := mem.put(0x1000, []byte{1, 0, 0, 0})
	linger := mem.put(0x2000, []byte{1, 0, 0, 0, 5, 0, 0, 0})
	lo := mem.put(0x3000, []byte("lo"))
	checkLines(t, NewDecoder(Options{}), mem, []lineCase{
		{nrSetsockopt, 0, []uint64{5, 1, 2, one, 4}, `setsockopt(5, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0`},
		{nrSetsockopt, 0, []uint64{3, 6, 1, one, 4}, `setsockopt(3, SOL_TCP, TCP_NODELAY, [1], 4) = 0`},
		{nrSetsockopt, 0, []uint64{3, 1, 13, linger, 8}, `setsockopt(3, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=5}, 8) = 0`},
		{nrSetsockopt, -92, []uint64{3, 999, 3, one, 4}, `setsockopt(3, 0x3e7 /* SOL_?? */, 3, [1], 4) = -1 ENOPROTOOPT (Protocol not available)`},
		{nrSetsockopt, 0, []uint64{3, 1, 25, lo, 2}, `setsockopt(3, SOL_SOCKET, SO_BINDTODEVICE, "lo", 2) = 0`},
		{nrSetsockopt, -14, []uint64{3, 1, 9, 0, 4}, `setsockopt(3, SOL_SOCKET, SO_KEEPALIVE, NULL, 4) = -1 EFAULT (Bad address)`},
		{nrSetsockopt, -92, []uint64{3, 1, 200, one, 4}, `setsockopt(3, SOL_SOCKET, 0xc8 /* SO_??? */, [1], 4) = -1 ENOPROTOOPT (Protocol not available)`},
		{nrSetsockopt, -22, []uint64{3, 6, 0, one, 4}, `setsockopt(3, SOL_TCP, 0 /* TCP_??? */, [1], 4) = -1 EINVAL (Invalid argument)`},
	})
}

func TestFcntlResult(t *testing.T) {
	checkLines(t, NewDecoder(Options{}), &fakeMem{}, []lineCase{
		{nrFcntl, 2, []uint64{7, 3}, `fcntl(7, F_GETFL) = 0x2 (flags O_RDWR)`},
		{nrFcntl, 0x802, []uint64{3, 3}, `fcntl(3, F_GETFL) = 0x802 (flags O_RDWR|O_NONBLOCK)`},
		{nrFcntl, 0x8000, []uint64{4, 3}, `fcntl(4, F_GETFL) = 0x8000 (flags O_RDONLY|O_LARGEFILE)`},
		{nrFcntl, 1, []uint64{3, 1}, `fcntl(3, F_GETFD) = 0x1 (flags FD_CLOEXEC)`},
		{nrFcntl, 0, []uint64{3, 1}, `fcntl(3, F_GETFD) = 0`},
	})
}

func TestEnvpAtPageEnd(t *testing.T) {
	// strace's child execs with an environ that ends just before a page
	// that is not mapped (its heap's last page).
	mem := &fakeMem{}
	path := mem.str(0x1000, "/bin/nitro-rich")
	argv := mem.ptrs(0x1100, path, 0)
	envp := mem.ptrs(0x2fe8, 0x1200, 0x1210, 0)
	checkLines(t, NewDecoder(Options{}), mem, []lineCase{
		{59, 0, []uint64{path, argv, envp}, `execve("/bin/nitro-rich", ["/bin/nitro-rich"], 0x2fe8 /* 2 vars */) = 0`},
	})
}
