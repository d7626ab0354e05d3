package rsp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"nitro/core/kvm/rsp/rspfake"
)

const virtBase = 0xffff_8880_0000_0000

func newFake() *rspfake.Target {
	f := rspfake.New(2, 64<<10)
	f.VirtBase = virtBase
	for i, cpu := range f.CPUs {
		cpu.Set("rip", 0x1000*uint64(i+1))
		cpu.Set("rax", 0x1111*uint64(i+1))
		cpu.Set("cr3", 0xabc000)
		cpu.Set("eflags", 0x246)
	}
	return f
}

func dialFake(t *testing.T, f *rspfake.Target) *Client {
	t.Helper()
	c, err := New(f.Dial(), &Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestClientHandshakeAndRegisters(t *testing.T) {
	for _, mode := range []struct {
		name       string
		noAck, rle bool
	}{{"ack", false, false}, {"no-ack", true, false}, {"run-length", false, true}} {
		t.Run(mode.name, func(t *testing.T) {
			f := newFake()
			f.NoAck, f.RLE = mode.noAck, mode.rle
			c := dialFake(t, f)
			if got := f.Count("QStartNoAckMode"); got != 1 {
				t.Errorf("QStartNoAckMode sent %d times", got)
			}
			if !c.Multiprocess() {
				t.Error("multiprocess not negotiated")
			}
			l := c.Layout()
			// The numbers measured on QEMU 7.2.
			for name, num := range map[string]int{"rax": 0, "r15": 15, "rip": 16, "eflags": 17, "gs": 23,
				"fs_base": 24, "gs_base": 25, "k_gs_base": 26, "cr0": 27, "cr3": 29, "cr8": 31, "efer": 32, "mxcsr": 65} {
				if r, ok := l.Lookup(name); !ok || r.Num != num {
					t.Errorf("%s: got %+v, want number %d", name, r, num)
				}
			}
			raw, err := c.ReadRegisters()
			if err != nil {
				t.Fatal(err)
			}
			if len(raw) != l.GSize {
				t.Fatalf("g payload %d bytes, layout says %d", len(raw), l.GSize)
			}
			rax, _ := l.Lookup("rax")
			cr3, _ := l.Lookup("cr3")
			if rax.Uint(raw) != 0x1111 || cr3.Uint(raw) != 0xabc000 {
				t.Errorf("rax %#x cr3 %#x", rax.Uint(raw), cr3.Uint(raw))
			}
			if err := c.WriteRegisterUint(rax, 0x42); err != nil {
				t.Fatal(err)
			}
			if got := f.CPUs[0].Get("rax"); got != 0x42 {
				t.Errorf("after P, rax = %#x", got)
			}
			if v, err := c.ReadRegister(rax); err != nil || v[0] != 0x42 {
				t.Errorf("p: %x, %v", v, err)
			}
			rax.PutUint(raw, 7)
			if err := c.WriteRegisters(raw); err != nil {
				t.Fatal(err)
			}
			if got := f.CPUs[0].Get("rax"); got != 7 {
				t.Errorf("after G, rax = %#x", got)
			}
			if err := c.SelectThread('g', Thread{1, 2}); err != nil {
				t.Fatal(err)
			}
			if raw, err = c.ReadRegisters(); err != nil || rax.Uint(raw) != 0x2222 {
				t.Errorf("after Hg p1.2, rax = %#x, %v", rax.Uint(raw), err)
			}
			threads, err := c.Threads()
			if err != nil || len(threads) != 2 || threads[1] != (Thread{1, 2}) {
				t.Errorf("threads %v, %v", threads, err)
			}
		})
	}
}

func TestClientMemory(t *testing.T) {
	f := newFake()
	f.RLE = true
	c := dialFake(t, f)
	for i := range f.Mem {
		f.Mem[i] = byte(i / 3)
	}
	// Large enough to need several packets.
	got := make([]byte, 10000)
	if err := c.ReadVirt(got, virtBase+100); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, f.Mem[100:10100]) {
		t.Error("virtual read differs from memory")
	}
	if err := c.ReadPhys(got, 100); err != nil || !bytes.Equal(got, f.Mem[100:10100]) {
		t.Errorf("physical read: %v", err)
	}
	if err := c.WritePhys([]byte("hello"), 50); err != nil || string(f.Mem[50:55]) != "hello" {
		t.Errorf("physical write: %v, memory %q", err, f.Mem[50:55])
	}
	if err := c.ReadPhys(got[:5], 50); err != nil || string(got[:5]) != "hello" {
		t.Errorf("physical read back: %q, %v", got[:5], err)
	}
	// The mode is switched only when the kind of access changes.
	if on, off := f.Count("Qqemu.PhyMemMode:1"), f.Count("Qqemu.PhyMemMode:0"); on != 1 || off != 0 {
		t.Errorf("PhyMemMode switched on %d, off %d times", on, off)
	}
	if err := c.WriteVirt([]byte("bye"), virtBase+60); err != nil || string(f.Mem[60:63]) != "bye" {
		t.Errorf("virtual write: %v", err)
	}
	err := c.ReadVirt(got[:8], 0x10)
	if !errors.Is(err, ErrStub) || !errors.Is(err, StubError{Code: 0x14}) {
		t.Errorf("unmapped read: got %v, want E14", err)
	}
}

func TestClientRunControl(t *testing.T) {
	f := newFake()
	c := dialFake(t, f)
	ctx := context.Background()
	rip, _ := c.Layout().Lookup("rip")
	if err := c.InsertBreakpoint(Software, 0x1010); err != nil {
		t.Fatal(err)
	}
	if err := c.InsertBreakpoint(Hardware, 0x2010); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Wait(ctx); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Wait while stopped: %v", err)
	}
	if err := c.Continue(); err != nil {
		t.Fatal(err)
	}
	stop, err := c.Wait(ctx)
	if err != nil || stop.Signal != SIGTRAP || !stop.HasThread {
		t.Fatalf("stop %+v, %v", stop, err)
	}
	raw, err := c.ReadRegisters()
	if err != nil {
		t.Fatal(err)
	}
	want := 0x1000 * uint64(stop.Thread.TID)
	if got := rip.Uint(raw); got != want+0x10 {
		t.Fatalf("thread %v stopped at %#x, want %#x", stop.Thread, got, want+0x10)
	}
	// Continuing from a breakpoint stops at once, as on QEMU.
	if err := c.Continue(); err != nil {
		t.Fatal(err)
	}
	if again, err := c.Wait(ctx); err != nil || again.Thread == stop.Thread && rip.Uint(mustRegs(t, c)) != want+0x10 {
		t.Fatalf("second stop %+v, %v", again, err)
	}
	if err := c.SelectThread('g', stop.Thread); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveBreakpoint(Software, 0x1010); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveBreakpoint(Hardware, 0x2010); err != nil {
		t.Fatal(err)
	}
	// Step runs only the thread stepped.
	other := f.CPUs[2-stop.Thread.TID].Get("rip")
	if err := c.Step(stop.Thread); err != nil {
		t.Fatal(err)
	}
	if s, err := c.Wait(ctx); err != nil || s.Thread != stop.Thread {
		t.Fatalf("step stop %+v, %v", s, err)
	}
	if got := rip.Uint(mustRegs(t, c)); got != want+0x11 {
		t.Errorf("after step rip %#x, want %#x", got, want+0x11)
	}
	if got := f.CPUs[2-stop.Thread.TID].Get("rip"); got != other {
		t.Errorf("the other vCPU moved from %#x to %#x during a step", other, got)
	}
	if len(f.Breakpoints()) != 0 {
		t.Errorf("breakpoints left: %x", f.Breakpoints())
	}
}

func mustRegs(t *testing.T, c *Client) []byte {
	t.Helper()
	raw, err := c.ReadRegisters()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestClientInterruptAndDetach(t *testing.T) {
	f := newFake()
	f.MaxSteps = 10 // no breakpoint: the fake then runs until interrupted
	c := dialFake(t, f)
	if err := c.Continue(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := c.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait on a running target: %v", err)
	}
	if _, err := c.ReadRegisters(); !errors.Is(err, ErrRunning) {
		t.Errorf("request while running: %v", err)
	}
	if err := c.Continue(); !errors.Is(err, ErrRunning) {
		t.Errorf("Continue while running: %v", err)
	}
	if err := c.Interrupt(); err != nil {
		t.Fatal(err)
	}
	stop, err := c.Wait(context.Background())
	if err != nil || stop.Signal != SIGINT {
		t.Fatalf("stop after interrupt %+v, %v", stop, err)
	}
	if err := c.InsertBreakpoint(Software, 0x5000); err != nil {
		t.Fatal(err)
	}
	if err := c.Detach(); err != nil {
		t.Fatal(err)
	}
	if f.Count("D;1") != 1 || !f.Detached() || len(f.Breakpoints()) != 0 {
		t.Errorf("D;1 sent %d times, detached %v, breakpoints %x", f.Count("D;1"), f.Detached(), f.Breakpoints())
	}
	if _, err := c.ReadRegisters(); !errors.Is(err, ErrDetached) {
		t.Errorf("request after detach: %v", err)
	}
	if err := c.Interrupt(); err != nil {
		t.Errorf("Interrupt after detach: %v", err)
	}
	if v := f.Violations(); len(v) != 0 {
		t.Errorf("protocol violations: %q", v)
	}
}

// scripted is a stub end that answers each packet the client sends with the
// next reply of a script (raw bytes, framing included).
func scripted(t *testing.T, replies ...string) io.ReadWriteCloser {
	client, server := net.Pipe()
	go func() {
		defer server.Close()
		buf := make([]byte, 4096)
		for _, r := range replies {
			if _, err := server.Read(buf); err != nil {
				return
			}
			if _, err := server.Write([]byte(r)); err != nil {
				return
			}
		}
		_, _ = io.Copy(io.Discard, server)
	}()
	return client
}

func TestClientTimeoutAndClose(t *testing.T) {
	// A stub that acknowledges but never answers.
	_, err := New(scripted(t, "+"), &Options{Timeout: 20 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("silent stub: got %v, want ErrTimeout", err)
	}
	// A stub that hangs up.
	client, server := net.Pipe()
	server.Close()
	if _, err = New(client, &Options{Timeout: time.Second}); !errors.Is(err, ErrClosed) {
		t.Errorf("closed stub: got %v, want ErrClosed", err)
	}
}

func TestWaitConsoleAndExit(t *testing.T) {
	var console strings.Builder
	c := newClient(scripted(t, "+"+raw("O6869")+raw("OK")+raw("W00")), &Options{Timeout: time.Second, Console: &console})
	defer c.Close()
	c.noAck = true
	if err := c.Continue(); err != nil {
		t.Fatal(err)
	}
	// "OK" is no stop reply: Wait says so but the target stays running.
	if _, err := c.Wait(context.Background()); !errors.Is(err, ErrMalformed) {
		t.Fatalf("got %v, want ErrMalformed", err)
	}
	stop, err := c.Wait(context.Background())
	if err != nil || !stop.Gone() {
		t.Fatalf("stop %+v, %v", stop, err)
	}
	if console.String() != "hi" {
		t.Errorf("console got %q", console.String())
	}
	if err := c.Continue(); !errors.Is(err, ErrClosed) {
		t.Errorf("Continue after exit: %v", err)
	}
}

// TestHandshakeFailureDetaches: QEMU stops the VM when a client connects.
// A client whose handshake then fails must detach before it closes, or the
// VM stays paused with nobody attached.
func TestHandshakeFailureDetaches(t *testing.T) {
	for _, step := range []string{"qXfer:features:read", "vCont?", "?"} {
		t.Run(step, func(t *testing.T) {
			f := newFake()
			f.Fail = step
			if c, err := New(f.Dial(), &Options{Timeout: time.Second}); err == nil {
				c.Close()
				t.Fatal("the handshake did not fail")
			}
			if !f.Detached() || !f.Running() {
				t.Errorf("after a failed handshake: detached %v, running %v", f.Detached(), f.Running())
			}
		})
	}
}

// TestDialChecksThePeer: a socket served by another process than the one
// named is refused before the handshake (this process serves it here).
func TestDialChecksThePeer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gdb.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f := rspfake.New(1, 1<<16)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go f.Serve(conn)
		}
	}()
	ctx := context.Background()
	if _, err := Dial(ctx, path, &Options{Peer: os.Getpid() + 1}); !errors.Is(err, ErrWrongPeer) {
		t.Errorf("another process's socket: %v, want ErrWrongPeer", err)
	}
	c, err := Dial(ctx, path, &Options{Peer: os.Getpid()})
	if err != nil {
		t.Fatalf("the expected process's socket: %v", err)
	}
	c.Detach()
	c.Close()
}
