package strace

import (
	"testing"

	"nitro/core/backend"
	"nitro/core/kvm"
)

// TestResultInjected: an exit whose result nitro set reads as strace shows
// an injected call; the mark follows the result in every form it takes.
func TestResultInjected(t *testing.T) {
	const (
		openat, read, mmap = 257, 0, 9
		open32             = 5
	)
	for _, c := range []struct {
		abi  backend.ABI
		nr   uint64
		ret  int64
		want string
	}{
		{backend.X8664, openat, -13, "-1 EACCES (Permission denied) (INJECTED)"},
		{backend.X8664, read, 42, "42 (INJECTED)"},
		{backend.X8664, mmap, 0x7f0000000000, "0x7f0000000000 (INJECTED)"},
		{backend.X8664, openat, -512, "? ERESTARTSYS (To be restarted if SA_RESTART is set) (INJECTED)"},
		// i386 reads eax (-2 here): the upper half is not its business.
		{backend.I386, open32, -0x2152_4111_0000_0002, "-1 ENOENT (No such file or directory) (INJECTED)"},
	} {
		sc := backend.Syscall{Direction: kvm.Exit, ABI: c.abi, Nr: c.nr, Ret: c.ret, Injected: true}
		if got := Result(&sc); got != c.want {
			t.Errorf("%v %d = %#x injected: %q, want %q", c.abi, c.nr, c.ret, got, c.want)
		}
		sc.Injected = false
		if got, want := Result(&sc), c.want[:len(c.want)-len(" (INJECTED)")]; got != want {
			t.Errorf("%v %d = %#x: %q, want %q", c.abi, c.nr, c.ret, got, want)
		}
	}
	// An entry has no result yet, injected or not.
	sc := backend.Syscall{Direction: kvm.Enter, Nr: openat, Injected: true}
	if got := Result(&sc); got != "" {
		t.Errorf("an injected entry: %q, want no result", got)
	}
}
