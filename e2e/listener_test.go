package e2e

import (
	"context"
	"testing"
	"time"

	"nitro/core/kvm"
	"nitro/core/kvm/gdbstub"
	"nitro/internal/lab"
)

// TestListenerEvents takes events straight from the gdbstub listener on
// each guest, set up as nitro traces, and checks what the back end relies
// on: each stop is at the entry or the exit with the right direction, on
// a known vCPU, in long mode; at the entry swapgs has not run (gs_base is
// still the user's, rcx holds the user return address), at the exit it has;
// guest memory reads while the vCPU is stopped. Every vCPU of the guest
// makes system calls, so each must show up.
func TestListenerEvents(t *testing.T) {
	lab.RequireRoot(t)
	for _, g := range guests {
		t.Run(g.Name, func(t *testing.T) {
			entry, exit := syscallPoints(t, g)
			l := dialListener(t, gdbStub(t, g), gdbstub.Config{SyscallEntry: entry, SyscallExit: exit})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			vcpus := map[int]int{}
			dirs := map[kvm.Direction]int{}
			for n := 0; n < 100 || len(vcpus) < g.VCPUs; n++ {
				ev, err := l.Next(ctx)
				if err != nil {
					t.Fatalf("after %d events on vCPUs %v: %v", n, vcpus, err)
				}
				checkEvent(t, l, ev, entry, exit)
				if ev.VCPU < 0 || ev.VCPU >= g.VCPUs {
					t.Fatalf("event on vCPU %d; the guest has %d", ev.VCPU, g.VCPUs)
				}
				vcpus[ev.VCPU]++
				dirs[ev.Direction]++
				if err := l.Continue(ev); err != nil {
					t.Fatal(err)
				}
			}
			if dirs[kvm.Enter] == 0 || dirs[kvm.Exit] == 0 {
				t.Errorf("events by direction %v, want both", dirs)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			requireRunning(t, g)
			t.Logf("events per vCPU %v, by direction %v, listener %+v", vcpus, dirs, l.Stats())
		})
	}
}

func checkEvent(t *testing.T, l *gdbstub.Listener, ev *kvm.Event, entry, exit uint64) {
	t.Helper()
	const efer = 1 << 10 // EFER.LMA: long mode active
	user := func(a uint64) bool { return a < 1<<47 }
	kernel := func(a uint64) bool { return a >= 0xffff800000000000 }
	r, s := ev.Regs, ev.SRegs
	switch {
	case s.CR3 == 0 || s.EFER&efer == 0:
		t.Fatalf("%v at %#x: implausible special registers %+v", ev.Direction, r.RIP, s)
	case ev.Direction == kvm.Enter && r.RIP != entry, ev.Direction == kvm.Exit && r.RIP != exit:
		t.Fatalf("%v at %#x; entry is %#x, exit %#x", ev.Direction, r.RIP, entry, exit)
	case ev.Direction == kvm.Enter && !(user(r.RCX) && kernel(s.KernelGSBase) && user(s.GSBase)):
		t.Fatalf("enter: rcx %#x gs_base %#x k_gs_base %#x: want a user return address, swapgs not run", r.RCX, s.GSBase, s.KernelGSBase)
	case ev.Direction == kvm.Exit && !(kernel(s.GSBase) && user(s.KernelGSBase)):
		t.Fatalf("exit: gs_base %#x k_gs_base %#x: want swapgs run", s.GSBase, s.KernelGSBase)
	}
	var code [3]byte
	if err := l.Memory().ReadVirt(code[:], r.RIP); err != nil {
		t.Fatalf("reading the code at %#x while stopped: %v", r.RIP, err)
	}
}
