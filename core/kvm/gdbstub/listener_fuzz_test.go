package gdbstub

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"nitro/core/kvm"
	"nitro/core/kvm/rsp/rspfake"
)

// fuzzSites are where a hostile guest sends its vCPUs, aims return
// addresses and patches code: the listener's breakpoints and their
// neighbours, the user program, an unused kernel page, an unmapped address.
var fuzzSites = []uint64{
	user, entry, entry + 3, hOpen, hOpen + 4, hOther, hOther + 5,
	retSite, retSite + 4, exitSite, exitSite + 3, kbase + 0x5000, 0x10,
}

// fuzzGuest is the test guest (guest.exec) run by a hostile kernel: while
// its script lasts, each instruction a vCPU runs is instead one of the
// script's moves; then the guest goes back to its syscall loop, which
// reaches a breakpoint in a few instructions from anywhere.
type fuzzGuest struct {
	*guest
	script []byte
}

func (g *fuzzGuest) next() byte {
	if len(g.script) == 0 {
		return 0
	}
	b := g.script[0]
	g.script = g.script[1:]
	return b
}

func (g *fuzzGuest) word() uint64 {
	var b [8]byte
	for i := range b {
		b[i] = g.next()
	}
	return binary.LittleEndian.Uint64(b[:])
}

func (g *fuzzGuest) site() uint64 { return fuzzSites[int(g.next())%len(fuzzSites)] }

var fuzzRegs = []string{"rax", "rbx", "rcx", "rsp", "r11", "r13", "eflags", "gs_base", "k_gs_base", "cr3"}

func (g *fuzzGuest) exec(t *rspfake.Target, i int) {
	c := t.CPUs[i]
	if len(g.script) > 0 {
		switch g.next() % 8 {
		case 0:
			c.Set("rip", g.site())
			return
		case 1: // a stack in mapped memory, at any alignment
			c.Set("rsp", kbase+uint64(binary.LittleEndian.Uint16([]byte{g.next(), g.next()})))
			return
		case 2: // a return address on the stack
			if ra := t.Virt(c.Get("rsp"), 8); ra != nil {
				binary.LittleEndian.PutUint64(ra, g.site())
			}
			return
		case 3:
			c.Set(fuzzRegs[int(g.next())%len(fuzzRegs)], g.word())
			return
		case 4: // code patched under a breakpoint
			at := g.site()
			code := make([]byte, g.next()%16)
			for j := range code {
				code[j] = g.next()
			}
			if mem := t.Virt(at, len(code)); mem != nil {
				copy(mem, code)
			}
			return
		}
	}
	// guest.exec expects the state its own loop leaves: a vCPU whose
	// stack or pt_regs the script moved off memory starts over.
	rip := c.Get("rip")
	returning := rip == hOther+5 || rip == hOpen+4 && c.Get("r13") >= 20
	if returning && t.Virt(c.Get("rsp"), 8) == nil || rip == retSite && t.Virt(c.Get("rbx")+0x50, 8) == nil {
		c.Set("rip", user)
		return
	}
	g.guest.exec(t, i)
}

// FuzzListener: everything a guest's vCPUs do is the guest's choice: where
// they go, their registers, the return addresses the handlers' exits are
// caught at, the code under the breakpoints (which the listener emulates).
// Whatever it does, the listener gives events at its breakpoints on known
// vCPUs, or an error, within a bounded time, keeps its awaited returns
// bounded, and Close leaves the VM detached with no breakpoint and no
// byte sent to it while it ran.
func FuzzListener(f *testing.F) {
	f.Add(uint8(0), []byte{})
	f.Add(uint8(1), []byte{})
	f.Add(uint8(4), []byte{})
	f.Add(uint8(5|8), []byte{})
	f.Add(uint8(2|16), []byte{})
	f.Add(uint8(32), []byte{})
	// A handler whose return address is another handler, then one off
	// memory; a swapgs patched into a jmp.
	f.Add(uint8(4), []byte{0, 3, 6, 6, 2, 5, 0, 5, 3, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add(uint8(0), []byte{4, 1, 2, 0xeb, 0xfe, 6, 6, 6})
	f.Fuzz(func(t *testing.T, mode uint8, script []byte) {
		ncpu := 1 + int(mode%3)
		fake, g := newGuest(t, ncpu)
		fake.MaxSteps = 5000
		fg := &fuzzGuest{guest: g, script: script}
		fake.Exec = fg.exec
		cfg := Config{SyscallEntry: entry, SyscallExit: exitSite}
		if mode&4 != 0 {
			cfg = Config{Handlers: []uint64{hOpen, hOther}}
		}
		cfg.AlwaysStep, cfg.Timeout = mode&8 != 0, 2*time.Second
		if mode&16 != 0 {
			cfg.Breakpoints = AutoBreakpoints
		}
		if mode&32 != 0 { // a dead client's breakpoints
			leaveBreakpoints(t, fake, retSite, entry, exitSite+3)
		}
		l := startListener(t, fake, cfg)

		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for range 24 {
			ev, err := l.Next(ctx)
			if ctx.Err() != nil {
				t.Fatalf("Next did not return in 5s (stats %+v, script left %d)", l.Stats(), len(fg.script))
			}
			if err != nil {
				if errors.Is(err, kvm.ErrDetached) || errors.Is(err, ErrNotContinued) {
					t.Fatalf("Next: %v", err)
				}
				break
			}
			l.mu.Lock()
			_, at := l.bps[ev.Regs.RIP]
			awaited := len(l.returns)
			l.mu.Unlock()
			if !at || ev.VCPU < 0 || ev.VCPU >= ncpu {
				t.Fatalf("event on vCPU %d at %#x: not at a breakpoint of the listener", ev.VCPU, ev.Regs.RIP)
			}
			if awaited > maxReturns {
				t.Fatalf("%d returns awaited, more than %d", awaited, maxReturns)
			}
			if ev.Direction == kvm.Exit {
				ev.Regs.RAX = ^uint64(0) // as an injected error
				if err := l.SetRegs(ev); err != nil {
					break
				}
			}
			if err := l.Continue(ev); err != nil {
				break
			}
		}
		closeAndCheck(t, l, fake, nil)
	})
}
