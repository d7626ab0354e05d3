package windows

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"nitro/core/backend"
	"nitro/core/backend/windows/wintest"
)

// target is the synthetic guest as a dump of it at rest shows it.
func target(g *wintest.Guest) backend.Target {
	c := g.CPU0()
	return backend.Target{
		Phys: g.Phys, Mem: g.Mem, RAMEnd: wintest.MemSize,
		CR3: c.CR3, CR4: c.CR4, GSBase: c.GSBase, KernelGSBase: c.KernelGSBase, IDTBase: c.IDTBase,
	}
}

func open(t testing.TB, g *wintest.Guest) *Backend {
	t.Helper()
	b, err := Open(target(g))
	if err != nil {
		t.Fatal(err)
	}
	return b.(*Backend)
}

func TestDiscovery(t *testing.T) {
	for _, build := range wintest.Builds {
		t.Run(build.Name, func(t *testing.T) {
			g := wintest.New(build)
			b := open(t, g)
			if b.base != wintest.KernelBase {
				t.Errorf("kernel base %#x, want %#x", b.base, uint64(wintest.KernelBase))
			}
			if b.layout.EThreadCid != build.Cid || b.layout.EThreadList != build.ThreadListEntry {
				t.Errorf("Cid %#x, thread links %#x; want %#x, %#x", b.layout.EThreadCid, b.layout.EThreadList, build.Cid, build.ThreadListEntry)
			}
			if s := b.Stops(); s.Entry != g.Entry() || s.Exit != g.Exit() {
				t.Errorf("stops %#x/%#x, want %#x/%#x", s.Entry, s.Exit, g.Entry(), g.Exit())
			}
			if !strings.Contains(b.Kernel(), "ntkrnlmp.pdb") || b.OS() != "windows" {
				t.Errorf("kernel %q, OS %q", b.Kernel(), b.OS())
			}
			h, err := b.Handlers("NtCreateFile")
			if err != nil || len(h) != 1 || h[0] != g.Handler(0x52) {
				t.Errorf("NtCreateFile's handler: %#x, %v; want %#x", h, err, g.Handler(0x52))
			}
			if _, err := b.Handlers("NtNoSuchCall"); !errors.Is(err, ErrNoHandler) {
				t.Errorf("an unknown call's handler: %v", err)
			}
		})
	}
}

// TestDiscoveryAtEntry finds the KPCR in KERNEL_GS_BASE, as a stop at
// KiSystemCall64's first instruction (before swapgs) sees it, through a
// user process's page tables.
func TestDiscoveryAtEntry(t *testing.T) {
	g := wintest.New(wintest.Build17514)
	tg := target(g)
	tg.GSBase, tg.KernelGSBase = wintest.TEB, g.KPCR
	if _, err := Open(tg); err != nil {
		t.Fatal(err)
	}
}

func TestBackendOpenChoosesWindows(t *testing.T) {
	g := wintest.New(wintest.Build17514)
	b, err := backend.Open(target(g), "")
	if err != nil {
		t.Fatal(err)
	}
	if b.OS() != "windows" {
		t.Errorf("chose %s", b.OS())
	}
}

func TestNotWindows(t *testing.T) {
	g := wintest.New(wintest.Build17514)
	tg := target(g)
	tg.GSBase, tg.KernelGSBase = 0xffff888000010000, 0
	// An IDT whose handlers lie in no ntoskrnl, as another kernel's.
	const idt = 0xfffffa8000c60000
	g.Put(g.Kernel(), idt, wintest.IDTGate(0xfffffa8000c70000))
	tg.IDTBase = idt
	if _, err := Open(tg); !errors.Is(err, backend.ErrOtherOS) || !errors.Is(err, ErrNoKernel) {
		t.Errorf("no KPCR, no ntoskrnl: %v, want ErrOtherOS", err)
	}
	tg.CR3 = 0
	if _, err := Open(tg); !errors.Is(err, backend.ErrOtherOS) {
		t.Errorf("no vCPU state: %v, want ErrOtherOS", err)
	}
}

func TestUnknownGUID(t *testing.T) {
	b := wintest.Build17514
	b.GUID[0] ^= 0xff
	g := wintest.New(b)
	_, err := Open(target(g))
	if !errors.Is(err, ErrUnknownBuild) {
		t.Fatalf("err %v, want ErrUnknownBuild", err)
	}
	t.Log(err)
	for _, want := range []string{"3844DB46", "ntkrnlmp.pdb", "age 2", "--profile FILE", "ISF", "7601.17514"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
}

func TestProcesses(t *testing.T) {
	for _, build := range wintest.Builds {
		t.Run(build.Name, func(t *testing.T) {
			g := wintest.New(build)
			procs, err := open(t, g).Processes()
			if err != nil {
				t.Fatal(err)
			}
			// explorer.exe's image path crosses a page boundary.
			explorer := g.Proc("explorer.exe")
			info, _ := g.Kernel().U64(explorer.EPROCESS + 0x390)
			if text := info + 16; text>>12 == (text+2*uint64(len(explorer.Path))-1)>>12 {
				t.Errorf("explorer.exe's image path at %#x crosses no page", text)
			}
			byPID := map[int]backend.Process{}
			threads := map[int]int{}
			for _, p := range procs {
				if p.TID == p.PID {
					byPID[p.PID] = p
					if !p.NotThread {
						t.Errorf("pid %d: its process row is not marked as no thread", p.PID)
					}
				} else {
					threads[p.PID]++
				}
			}
			for _, want := range g.Procs {
				got, ok := byPID[want.PID]
				if want.Exited {
					if ok {
						t.Errorf("exited %s listed", want.Name)
					}
					continue
				}
				comm := want.Name
				if want.Wow64 {
					comm += " *32"
				}
				if !ok || got.PPID != want.PPID || got.Comm != comm || got.Image != want.Path || threads[want.PID] != len(want.Threads) {
					t.Errorf("pid %d: %+v with %d threads, want ppid %d %q %q with %d", want.PID, got, threads[want.PID], want.PPID, comm, want.Path, len(want.Threads))
				}
			}
			if len(byPID) != len(g.Procs)-1 {
				t.Errorf("%d processes, want %d", len(byPID), len(g.Procs)-1)
			}
		})
	}
}

// TestImagePathHostile points cmd.exe's SeAuditProcessCreationInfo, and
// the UNICODE_STRING there, anywhere: its image path is then "" or cut,
// never an error, and the other processes keep theirs.
func TestImagePathHostile(t *testing.T) {
	g := wintest.New(wintest.Build17514)
	b := open(t, g)
	k := g.Kernel()
	cmd, explorer := g.Proc("cmd.exe"), g.Proc("explorer.exe")
	audit := cmd.EPROCESS + 0x390
	info, _ := k.U64(audit)
	orig := make([]byte, 16)
	if err := k.Read(orig, info); err != nil {
		t.Fatal(err)
	}
	const (
		unmapped = 0xfffffa8000f00000 // past the pool
		zeros    = 0xfffffa8000c40000 // the pool's free part
	)
	le := binary.LittleEndian
	us := func(n uint16, buf uint64) []byte {
		h := le.AppendUint16(nil, n)
		h = le.AppendUint16(h, n)
		return le.AppendUint64(append(h, 0, 0, 0, 0), buf)
	}
	cases := []struct {
		name   string
		info   uint64 // where SeAuditProcessCreationInfo points
		header []byte // the UNICODE_STRING there, when not nil
		want   string
	}{
		{"NULL", 0, nil, ""},
		{"unmapped", unmapped, nil, ""},
		{"user address", wintest.Strings, nil, ""},
		{"buffer unmapped", info, us(32, unmapped), ""},
		{"buffer in user memory", info, us(32, wintest.Strings), ""},
		{"odd length", info, us(3, le.Uint64(orig[8:])), `\`},
		{"huge length", info, us(0xffff, zeros), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g.Put(k, audit, le.AppendUint64(nil, c.info))
			if c.header != nil {
				g.Put(k, c.info, c.header)
			}
			defer g.Put(k, info, orig)
			defer g.Put(k, audit, le.AppendUint64(nil, info))
			procs, err := b.Processes()
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range procs {
				switch {
				case p.TID != p.PID:
				case p.PID == cmd.PID && c.name == "huge length":
					if len([]rune(p.Image)) != maxImageChars+len("...") || !strings.HasSuffix(p.Image, "...") {
						t.Errorf("image of %d characters: %q", len([]rune(p.Image)), p.Image)
					}
				case p.PID == cmd.PID && p.Image != c.want:
					t.Errorf("image %q, want %q", p.Image, c.want)
				case p.PID == explorer.PID && p.Image != explorer.Path:
					t.Errorf("explorer.exe's image %q, want %q", p.Image, explorer.Path)
				}
			}
		})
	}
}

// TestDiscoveryFromTheIDT finds the kernel as a live vCPU in user mode
// shows it through QEMU's monitor: GS is the TEB, no KERNEL_GS_BASE, the
// IDT's base.
func TestDiscoveryFromTheIDT(t *testing.T) {
	for _, build := range wintest.Builds {
		g := wintest.New(build)
		tg := target(g)
		tg.GSBase, tg.KernelGSBase = wintest.TEB, 0
		b, err := Open(tg)
		if err != nil {
			t.Fatalf("%s: %v", build.Name, err)
		}
		if l := b.(*Backend).layout; l.EThreadCid != build.Cid {
			t.Errorf("%s: Cid %#x, want %#x", build.Name, l.EThreadCid, build.Cid)
		}
		tg.IDTBase = 0
		if _, err := Open(tg); !errors.Is(err, backend.ErrOtherOS) {
			t.Errorf("%s: without the IDT: %v, want ErrOtherOS", build.Name, err)
		}
	}
}

func TestNumber(t *testing.T) {
	b := open(t, wintest.New(wintest.Build17514))
	if nr, err := b.Number("NtOpenKey"); err != nil || nr != 0xf {
		t.Errorf("NtOpenKey: %#x %v", nr, err)
	}
	if nr, err := b.Number("NtUserGetThreadState"); err != nil || nr != 0x1000 {
		t.Errorf("NtUserGetThreadState: %#x %v", nr, err)
	}
	if _, err := b.Number("open"); !errors.Is(err, ErrNoHandler) {
		t.Errorf("a Linux name: %v", err)
	}
}
