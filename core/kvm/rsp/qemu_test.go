package rsp

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// dialQEMU connects to the real QEMU stub named by NITRO_GDB_SOCK, and
// detaches when the test ends so the VM keeps running.
func dialQEMU(t testing.TB) *Client {
	t.Helper()
	path := os.Getenv("NITRO_GDB_SOCK")
	if path == "" {
		t.Skip("NITRO_GDB_SOCK not set: no QEMU gdb stub to test against")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c.Running() {
			_ = c.Interrupt()
			wctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, _ = c.Wait(wctx)
			cancel()
		}
		if err := c.Detach(); err != nil {
			t.Errorf("detach: %v", err)
		}
		c.Close()
	})
	return c
}

func TestQEMUHandshake(t *testing.T) {
	c := dialQEMU(t)
	l := c.Layout()
	t.Logf("arch %q, %d registers, g is %d bytes, stop %+v", l.Arch, len(l.Registers), l.GSize, c.LastStop())
	for _, r := range l.Registers {
		t.Logf("%v size %d off %d", r, r.Size, r.Offset)
	}
	threads, err := c.Threads()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("threads %v", threads)
	raw, err := c.ReadRegisters()
	if err != nil {
		t.Fatal(err)
	}
	rip, _ := l.Lookup("rip")
	cr3, _ := l.Lookup("cr3")
	t.Logf("g %d bytes rip %#x cr3 %#x", len(raw), rip.Uint(raw), cr3.Uint(raw))
}

// qemuEntry is the guest address to break at for the stop-loop benchmarks:
// NITRO_GDB_ENTRY, e.g. entry_SYSCALL_64 from the guest's kallsyms.
func qemuEntry(tb testing.TB) uint64 {
	s := os.Getenv("NITRO_GDB_ENTRY")
	if s == "" {
		tb.Skip("NITRO_GDB_ENTRY not set")
	}
	v, err := parseHexUint(strings.TrimPrefix(s, "0x"), 64)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// stopLoop is a raw stop loop against QEMU: one op is a breakpoint stop
// at NITRO_GDB_ENTRY, a `g` read, and stepOver before continuing.
func stopLoop(b *testing.B, stepOver func(c *Client, stop Stop, raw []byte, entry uint64) error) {
	c := dialQEMU(b)
	entry := qemuEntry(b)
	if err := c.InsertBreakpoint(Software, entry); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if c.Running() {
			_ = c.Interrupt()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, _ = c.Wait(ctx)
			cancel()
		}
		_ = c.RemoveBreakpoint(Software, entry)
	})
	ctx := context.Background()
	rip, _ := c.Layout().Lookup("rip")
	b.ResetTimer()
	for range b.N {
		if err := c.Continue(); err != nil {
			b.Fatal(err)
		}
		stop, err := c.Wait(ctx)
		if err != nil {
			b.Fatal(err)
		}
		raw, err := c.ReadRegisters()
		if err != nil {
			b.Fatal(err)
		}
		if got := rip.Uint(raw); got != entry {
			b.Fatalf("stopped at %#x, want %#x", got, entry)
		}
		if err := stepOver(c, stop, raw, entry); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQEMUStopLoop steps over the breakpoint the plain way: remove,
// single-step, insert.
func BenchmarkQEMUStopLoop(b *testing.B) {
	stopLoop(b, func(c *Client, stop Stop, _ []byte, entry uint64) error {
		if err := c.RemoveBreakpoint(Software, entry); err != nil {
			return err
		}
		if err := c.Step(stop.Thread); err != nil {
			return err
		}
		if _, err := c.Wait(context.Background()); err != nil {
			return err
		}
		return c.InsertBreakpoint(Software, entry)
	})
}

// BenchmarkQEMUStopLoopEmulated steps over the `swapgs` at Linux's
// entry_SYSCALL_64 by emulating it: three `P` writes (rip, gs_base,
// k_gs_base), no debug stop.
func BenchmarkQEMUStopLoopEmulated(b *testing.B) {
	stopLoop(b, func(c *Client, _ Stop, raw []byte, entry uint64) error {
		rip, _ := c.Layout().Lookup("rip")
		gs, _ := c.Layout().Lookup("gs_base")
		kgs, _ := c.Layout().Lookup("k_gs_base")
		var insn [3]byte
		if err := c.ReadVirt(insn[:], entry); err != nil {
			return err
		}
		if string(insn[:]) != "\x0f\x01\xf8" {
			b.Skipf("no swapgs at %#x: % x", entry, insn)
		}
		for _, w := range []struct {
			r Register
			v uint64
		}{{rip, entry + 3}, {gs, kgs.Uint(raw)}, {kgs, gs.Uint(raw)}} {
			if err := c.WriteRegisterUint(w.r, w.v); err != nil {
				return err
			}
		}
		return nil
	})
}

// BenchmarkQEMURoundTrip: one op is one `g` request and reply while the VM
// is stopped: the protocol's own cost per round trip.
func BenchmarkQEMURoundTrip(b *testing.B) {
	c := dialQEMU(b)
	b.ResetTimer()
	for range b.N {
		if _, err := c.ReadRegisters(); err != nil {
			b.Fatal(err)
		}
	}
}
