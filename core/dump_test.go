package core

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"nitro/commands"
	"nitro/core/backend/windows"
	"nitro/core/backend/windows/wintest"
	"nitro/core/vmi/physmem"
)

// windowsDump writes the synthetic Windows 7 guest of build b as an ELF core.
func windowsDump(t *testing.T, b wintest.Build) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "win7.core")
	if err := wintest.New(b).WriteELF(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPSTreeOverADump runs `nitro ps --tree dump:FILE` on the synthetic
// Windows guest's dump: the process tree as its EPROCESS list says, with
// each image's path, and the table's thread counts.
func TestPSTreeOverADump(t *testing.T) {
	for _, b := range wintest.Builds {
		t.Run(b.Name, func(t *testing.T) {
			path := windowsDump(t, b)
			var out bytes.Buffer
			h := &Hypervisor{}
			if err := commands.PS(context.Background(), h, []string{"--tree", DumpPrefix + path}, &out); err != nil {
				t.Fatal(err)
			}
			want := `4 System
  {8 System}
  {12 System}
  252 smss.exe \\Device\\HarddiskVolume2\\Windows\\System32\\smss.exe
    {256 smss.exe}
332 csrss.exe \\Device\\HarddiskVolume2\\Windows\\System32\\csrss.exe
  {336 csrss.exe}
  {340 csrss.exe}
380 wininit.exe \\Device\\HarddiskVolume2\\Windows\\System32\\wininit.exe
  {384 wininit.exe}
  476 services.exe \\Device\\HarddiskVolume2\\Windows\\System32\\services.exe
    {480 services.exe}
    600 svchost.exe \\Device\\HarddiskVolume2\\Windows\\System32\\svchost.exe
      {604 svchost.exe}
      {608 svchost.exe}
  492 lsass.exe \\Device\\HarddiskVolume2\\Windows\\System32\\lsass.exe
    {496 lsass.exe}
1208 explorer.exe \\Device\\HarddiskVolume2\\Windows\\explorer.exe
  {1212 explorer.exe}
  {1216 explorer.exe}
  1320 cmd.exe \\Device\\HarddiskVolume2\\Windows\\System32\\cmd.exe
    {1324 cmd.exe}
    1512 setup32.exe *32 \\Device\\HarddiskVolume2\\Program Files (x86)\\Setup\\setup32.exe
      {1516 setup32.exe *32}
    1720 averyveryverylo \\Device\\HarddiskVolume2\\Users\\victim\\averyveryverylongname.exe
      {1724 averyveryverylo}
  1400 notepad.exe \\Device\\HarddiskVolume2\\Windows\\System32\\notepad.exe
    {1404 notepad.exe}
`
			if out.String() != want {
				t.Errorf("ps --tree:\n%s\nwant:\n%s", out.String(), want)
			}
			// THREADS counts a process's threads, not its own row.
			out.Reset()
			if err := commands.PS(context.Background(), h, []string{DumpPrefix + path}, &out); err != nil {
				t.Fatal(err)
			}
			for _, row := range []string{"4     0     0    2        System\n", "1320  1208  0    1        cmd.exe\n"} {
				if !strings.Contains(out.String(), row) {
					t.Errorf("ps lacks %q:\n%s", row, out.String())
				}
			}
		})
	}
}

func TestSymbolsAndProfileOverADump(t *testing.T) {
	path := windowsDump(t, wintest.Build17514)
	h := &Hypervisor{}
	var syms, prof bytes.Buffer
	if err := commands.Kernel(context.Background(), h, "symbols", []string{DumpPrefix + path}, &syms); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(syms.String(), "fffff80002680640 T KiSystemCall64\n") {
		t.Errorf("symbols:\n%s", syms.String())
	}
	if err := commands.Kernel(context.Background(), h, "profile", []string{DumpPrefix + path}, &prof); err != nil {
		t.Fatal(err)
	}
	l, err := windows.ReadISF(&prof)
	if err != nil || l.EThreadCid != 0x3b0 || l.Symbols["KiSystemCall64"] != 0x7f640 {
		t.Errorf("the profile reads back as %+v, %v", l, err)
	}
}

func TestDumpErrors(t *testing.T) {
	dir := t.TempDir()
	notCore := filepath.Join(dir, "raw")
	if err := os.WriteFile(notCore, []byte("not an ELF file at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenDump(notCore, Kernel{}); !errors.Is(err, physmem.ErrNotCore) {
		t.Errorf("a raw file: %v, want ErrNotCore", err)
	}
	if _, err := OpenDump(windowsDump(t, wintest.Build17514), Kernel{OS: "linux"}); err == nil || !strings.Contains(err.Error(), "linux guest") {
		t.Errorf("--os linux on a Windows dump: %v", err)
	}
}

// TestRawImage opens a raw image of the synthetic guest's memory with the
// registers in its name: the kernel's CR3 and the IDT, as QEMU's monitor
// shows a vCPU in user mode.
func TestRawImage(t *testing.T) {
	g := wintest.New(wintest.Build17514)
	path := filepath.Join(t.TempDir(), "win7.raw")
	if err := os.WriteFile(path, g.Phys.Mem, 0o644); err != nil {
		t.Fatal(err)
	}
	spec := fmt.Sprintf("%s?cr3=%#x&idt=%x&gs=%x", path, wintest.KernelCR3, g.CPU0().IDTBase, uint64(wintest.TEB))
	d, err := OpenDump(spec, Kernel{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	procs, err := d.Processes(context.Background())
	if err != nil || len(procs) < 12 || d.Name() != DumpPrefix+spec {
		t.Errorf("%s: %d tasks, %v", d.Name(), len(procs), err)
	}
	for _, bad := range []string{path, path + "?idt=1", path + "?cr3=zz", path + "?cr3=1&rip=2"} {
		if _, err := OpenDump(bad, Kernel{}); !errors.Is(err, ErrDumpRegs) {
			t.Errorf("%s: %v, want ErrDumpRegs", bad, err)
		}
	}
}
