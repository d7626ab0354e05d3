package ksym

import (
	"bytes"
	"debug/elf"
	"nitro/internal/bootkernel"
	"testing"
)

// Debian 12's two kernel series, as installed in /boot of the build machine.
var bootKernels = []struct {
	glob   string
	layout Layout
}{
	{"/boot/vmlinuz-6.1.*", OffsetsFirst},
	{"/boot/vmlinuz-6.12.*", OffsetsLast},
}

func TestBootKernels(t *testing.T) {
	for _, k := range bootKernels {
		t.Run(k.glob, func(t *testing.T) {
			image := bootkernel.Vmlinux(t, k.glob)
			tab, err := FromVmlinux(image)
			if err != nil {
				t.Fatal(err)
			}
			if tab.Layout() != k.layout {
				t.Errorf("layout %v, want %v", tab.Layout(), k.layout)
			}
			if tab.Len() < 50000 {
				t.Errorf("only %d symbols", tab.Len())
			}
			text, _ := tab.Text()
			end, _ := tab.Lookup("_end")
			if text != LinkText || end <= text {
				t.Fatalf("_text %#x _end %#x", text, end)
			}
			for _, name := range []string{"entry_SYSCALL_64", "do_syscall_64", "init_task", "sys_call_table", "__start_BTF", "__stop_BTF", "linux_banner"} {
				a, ok := tab.Lookup(name)
				if !ok || a < text || a >= end {
					t.Errorf("%s = %#x %v, want inside [%#x, %#x)", name, a, ok, text, end)
				}
			}
			// An independent witness: the ELF section headers.
			ef, err := elf.NewFile(bytes.NewReader(image))
			if err != nil {
				t.Fatal(err)
			}
			if start, _ := tab.Lookup("__start_BTF"); ef.Section(".BTF") == nil || ef.Section(".BTF").Addr != start {
				t.Errorf("__start_BTF %#x is not the .BTF section's address", start)
			}
			if pa, ok := tab.PhysText(); !ok || pa != 0x1000000 {
				t.Errorf("PhysText = %#x %v, want CONFIG_PHYSICAL_START 0x1000000", pa, ok)
			}
			sys, _ := tab.Lookup("do_syscall_64")
			if name, off, ok := tab.Nearest(sys + 3); !ok || off != 3 || name != "do_syscall_64" {
				t.Errorf("Nearest(do_syscall_64+3) = %q+%#x %v", name, off, ok)
			}
		})
	}
}

func BenchmarkFromVmlinux(b *testing.B) {
	for _, k := range bootKernels {
		b.Run(k.glob, func(b *testing.B) {
			image := bootkernel.Vmlinux(b, k.glob)
			for b.Loop() {
				if _, err := FromVmlinux(image); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
