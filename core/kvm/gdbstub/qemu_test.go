package gdbstub

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"nitro/core/kvm"
	"nitro/core/kvm/rsp"
)

// qemuConfig builds a Config for the real QEMU stub named by
// NITRO_GDB_SOCK, from hex addresses in NITRO_GDB_ENTRY, NITRO_GDB_EXIT and
// NITRO_GDB_HANDLERS (comma-separated); it skips without them.
func qemuConfig(tb testing.TB) (string, Config) {
	path, entry := os.Getenv("NITRO_GDB_SOCK"), os.Getenv("NITRO_GDB_ENTRY")
	if path == "" || entry == "" {
		tb.Skip("NITRO_GDB_SOCK and NITRO_GDB_ENTRY not set: no QEMU gdb stub to test against")
	}
	hex := func(s string) uint64 {
		v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
		if err != nil {
			tb.Fatalf("bad address %q: %v", s, err)
		}
		return v
	}
	cfg := Config{SyscallEntry: hex(entry), AlwaysStep: os.Getenv("NITRO_GDB_ALWAYS_STEP") != ""}
	if s := os.Getenv("NITRO_GDB_EXIT"); s != "" {
		cfg.SyscallExit = hex(s)
	}
	if s := os.Getenv("NITRO_GDB_HANDLERS"); s != "" {
		for h := range strings.SplitSeq(s, ",") {
			cfg.Handlers = append(cfg.Handlers, hex(h))
		}
	}
	return path, cfg
}

func dialQEMU(tb testing.TB) *Listener {
	path, cfg := qemuConfig(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := Dial(ctx, path, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := l.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return l
}

func TestQEMUListener(t *testing.T) {
	l := dialQEMU(t)
	_, cfg := qemuConfig(t)
	vcpus := map[int]int{}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for range 100 {
		ev, err := l.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		vcpus[ev.VCPU]++
		if ev.Direction == kvm.Enter && len(cfg.Handlers) == 0 && ev.Regs.RIP != cfg.SyscallEntry {
			t.Fatalf("enter at %#x, want %#x", ev.Regs.RIP, cfg.SyscallEntry)
		}
		if ev.SRegs.CR3 == 0 || ev.SRegs.EFER&(1<<10) == 0 { // long mode active
			t.Fatalf("implausible special registers %+v", ev.SRegs)
		}
		if ev.Direction == kvm.Enter && len(cfg.Handlers) == 0 {
			// At entry_SYSCALL_64 rcx holds the user return address and
			// gs_base is still the user one: swapgs has not run.
			if ev.Regs.RCX >= 1<<47 || ev.SRegs.KernelGSBase < 1<<63 {
				t.Fatalf("enter: rcx %#x k_gs_base %#x", ev.Regs.RCX, ev.SRegs.KernelGSBase)
			}
		}
		// Reading through the event's page tables works while stopped.
		var b [8]byte
		if err := l.Memory().ReadVirt(b[:], ev.Regs.RIP); err != nil {
			t.Fatal(err)
		}
		if err := l.Continue(ev); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("events per vCPU %v, stats %+v", vcpus, l.Stats())
}

// BenchmarkQEMUListener: one op is one event, Next then Continue.
func BenchmarkQEMUListener(b *testing.B) {
	l := dialQEMU(b)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		ev, err := l.Next(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := l.Continue(ev); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.Logf("stats %+v", l.Stats())
}

// TestQEMURelease leaves the VM as a killed process would (stopped, with a
// breakpoint) and checks that Release gets it running again.
func TestQEMURelease(t *testing.T) {
	path, cfg := qemuConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := rsp.Dial(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.InsertBreakpoint(rsp.Software, cfg.SyscallEntry); err != nil {
		t.Fatal(err)
	}
	c.Close() // no detach
	if err := Release(ctx, path); err != nil {
		t.Fatal(err)
	}
	// Connected again, the VM must run into no breakpoint: interrupting is
	// the only way it stops.
	c, err = rsp.Dial(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Continue(); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 2*time.Second)
	defer wcancel()
	if s, err := c.Wait(wctx); err == nil {
		t.Errorf("stopped (%+v) although Release removed the breakpoint", s)
	} else {
		_ = c.Interrupt()
		_, _ = c.Wait(ctx)
	}
	if err := c.Detach(); err != nil {
		t.Fatal(err)
	}
}
