package gdbstub

import (
	"context"
	"errors"
	"strings"
	"testing"

	"nitro/core/kvm"
	"nitro/core/kvm/rsp"
	"nitro/core/kvm/rsp/rspfake"
)

// Kernel addresses the simulated guest never reaches: more places to
// stop at (32-bit entries and exits, other handlers).
const (
	compatIn  = kbase + 0x6000
	compatOut = kbase + 0x6100
	hMore     = kbase + 0x6200
)

// bpPackets counts the breakpoint packets the fake got, by kind:
// insertions "Z0,"/"Z1,", removals "z0,"/"z1,".
func bpPackets(f *rspfake.Target) map[string]int {
	n := map[string]int{}
	for _, p := range []string{"Z0,", "Z1,", "z0,", "z1,"} {
		n[p] = f.Count(p)
	}
	return n
}

// runEvents takes n events and continues each.
func runEvents(t *testing.T, l *Listener, n int) {
	t.Helper()
	for range n {
		ev, err := l.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Continue(ev); err != nil {
			t.Fatal(err)
		}
	}
}

// closeRemoves closes l and checks that it removed hw hardware
// breakpoints (z1) and sw software ones (z0).
func closeRemoves(t *testing.T, l *Listener, f *rspfake.Target, g *guest, hw, sw int) {
	t.Helper()
	before := bpPackets(f)
	closeAndCheck(t, l, f, g)
	after := bpPackets(f)
	if z1, z0 := after["z1,"]-before["z1,"], after["z0,"]-before["z0,"]; z1 != hw || z0 != sw {
		t.Errorf("Close sent %d z1 and %d z0, want %d and %d", z1, z0, hw, sw)
	}
}

// TestAutoBreakpoints: AutoBreakpoints sets hardware breakpoints (Z1)
// while debug registers are free, the first asked for first, and software
// ones (Z0) beyond, with a note; the guest is traced alike, and Close
// removes each with its kind.
func TestAutoBreakpoints(t *testing.T) {
	for _, tc := range []struct {
		name   string
		compat []uint64 // with entry and exit
		hw, sw int
	}{
		{"four", []uint64{compatIn, compatOut}, 4, 0},
		{"five", []uint64{compatIn, compatOut, hMore}, 4, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, g := newGuest(t, 2)
			l := startListener(t, f, Config{
				SyscallEntry: entry, SyscallExit: exitSite, CompatEntries: tc.compat[:1], CompatExits: tc.compat[1:],
				Breakpoints: AutoBreakpoints,
			})
			set := bpPackets(f)
			hw, sw, note := l.Breakpoints()
			if set["Z1,"] != tc.hw || set["Z0,"] != tc.sw || hw != tc.hw || sw != tc.sw {
				t.Fatalf("%d Z1 and %d Z0 sent, Breakpoints counts %d and %d; want %d and %d",
					set["Z1,"], set["Z0,"], hw, sw, tc.hw, tc.sw)
			}
			if (tc.sw == 0) != (note == "") || tc.sw > 0 && !strings.Contains(note, "beyond") {
				t.Errorf("note %q", note)
			}
			// The 64-bit entry and exit, asked for first, are in debug registers.
			for _, a := range []uint64{entry, exitSite} {
				if l.kinds[a] != rsp.Hardware {
					t.Errorf("breakpoint at %#x is not a hardware one", a)
				}
			}
			runEvents(t, l, 20)
			closeRemoves(t, l, f, g, tc.hw, tc.sw)
		})
	}
}

// TestStubRefusesHardware: a stub that refuses Z1 (an empty reply: no
// hardware breakpoints; or an error: KVM out of debug registers) gets
// software breakpoints instead, with a note saying so, in AutoBreakpoints
// mode, and an error in HardwareBreakpoints mode.
func TestStubRefusesHardware(t *testing.T) {
	for _, refuse := range []string{"empty", "error"} {
		t.Run(refuse, func(t *testing.T) {
			setup := func() (*rspfake.Target, *guest) {
				f, g := newGuest(t, 1)
				if refuse == "empty" {
					f.NoHardware = true
				} else {
					f.FailAfter("Z1,", 1) // the second one fails
				}
				return f, g
			}
			cfg := Config{SyscallEntry: entry, SyscallExit: exitSite, Breakpoints: AutoBreakpoints}
			f, g := setup()
			l := startListener(t, f, cfg)
			// Refused at once: both software; refused at the second: one of each.
			wantHW := map[string]int{"empty": 0, "error": 1}[refuse]
			if hw, sw, note := l.Breakpoints(); hw != wantHW || sw != 2-wantHW || !strings.Contains(note, "refused") {
				t.Errorf("Breakpoints: %d hardware, %d software, note %q", hw, sw, note)
			}
			if set := bpPackets(f); set["Z0,"] != 2-wantHW {
				t.Errorf("%d Z0 sent, want %d", set["Z0,"], 2-wantHW)
			}
			runEvents(t, l, 10)
			closeRemoves(t, l, f, g, wantHW, 2-wantHW)

			f, _ = setup()
			c, err := rsp.New(f.Dial(), &rsp.Options{})
			if err != nil {
				t.Fatal(err)
			}
			cfg.Breakpoints = HardwareBreakpoints
			if _, err := New(c, cfg); !errors.Is(err, ErrHardwareBreakpoints) {
				t.Errorf("HardwareBreakpoints on a stub that refuses them: %v", err)
			}
			if bps := f.Breakpoints(); len(bps) != 0 {
				t.Errorf("breakpoints left: %x", bps)
			}
		})
	}
}

// TestHardwareBreakpointsCounted: HardwareBreakpoints refuses more than
// four breakpoints, although QEMU's TCG would take them, since KVM would
// not.
func TestHardwareBreakpointsCounted(t *testing.T) {
	f, _ := newGuest(t, 1)
	c, err := rsp.New(f.Dial(), &rsp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(c, Config{Handlers: []uint64{hOpen, hOther, compatIn, compatOut, hMore}, Breakpoints: HardwareBreakpoints})
	if !errors.Is(err, ErrHardwareBreakpoints) || f.Count("Z1,") != 0 {
		t.Errorf("five hardware breakpoints: %v, %d Z1 sent", err, f.Count("Z1,"))
	}
}

// TestHandlerReturnsOverflow: with per-handler breakpoints the returns'
// breakpoints come as the guest runs. Four handlers fill the debug
// registers; the returns get software breakpoints, the handlers keep
// theirs, and the guest is traced on.
func TestHandlerReturnsOverflow(t *testing.T) {
	f, g := newGuest(t, 2)
	l := startListener(t, f, Config{Handlers: []uint64{hOpen, hOther, compatIn, compatOut}, Breakpoints: AutoBreakpoints})
	if hw, sw, note := l.Breakpoints(); hw != 4 || sw != 0 || note != "" || f.Count("Z1,") != 4 {
		t.Fatalf("four handlers: %d hardware, %d software, note %q, %d Z1", hw, sw, note, f.Count("Z1,"))
	}
	exits := 0
	for range 30 {
		ev, err := l.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if ev.Direction == kvm.Exit {
			exits++
		}
		if err := l.Continue(ev); err != nil {
			t.Fatal(err)
		}
	}
	hw, sw, note := l.Breakpoints()
	if hw != 4 || sw == 0 || !strings.Contains(note, "beyond") || exits == 0 || f.Count("Z1,") != 4 {
		t.Errorf("after the returns: %d hardware, %d software, note %q, %d exits, %d Z1", hw, sw, note, exits, f.Count("Z1,"))
	}
	closeRemoves(t, l, f, g, 4, sw)
}
