package physmem

import (
	"bytes"
	"os"
	"testing"

	"nitro/core/vmi"
	"nitro/core/vmi/vmitest"
)

// BenchmarkVirtualRead4K reads one 4 KiB user page through the process
// source and 4-level page tables, for guest RAM in anonymous memory (read
// with process_vm_readv, libvirt's default) and in a shared memfd (mapped
// here). "walk" drops the caches first, as a fresh stop does; "cached" does
// not. syscall-8B is one 8-byte process_vm_readv: the floor each table
// level costs on a cold walk through anonymous memory.
func BenchmarkVirtualRead4K(b *testing.B) {
	for _, backing := range []struct {
		name   string
		region func(testing.TB, int) ([]byte, uint64)
	}{{"anon", hostRegion}, {"memfd", memfdRegion}} {
		host, hva := backing.region(b, 8<<20)
		pt := vmitest.NewTables(&vmitest.Phys{Mem: host}, false, 0x100000, 0x200000)
		const va = 0x7f12_3456_7000
		pt.Map(va, 0x400000, vmitest.Page4K)
		src, err := OpenProcess(os.Getpid(), []Range{{Size: 8 << 20, Off: hva, Name: "ram"}})
		if err != nil {
			b.Fatal(err)
		}
		defer src.Close()
		mem := vmi.NewMemory(src)
		s := mem.Space(pt.Root, 0)
		buf := make([]byte, 4096)
		if err := s.Read(buf, va); err != nil || !bytes.Equal(buf, host[0x400000:0x401000]) {
			b.Fatalf("read %v", err)
		}
		b.Run(backing.name+"/walk", func(b *testing.B) {
			b.SetBytes(4096)
			for b.Loop() {
				mem.Invalidate()
				if err := s.Read(buf, va); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(backing.name+"/cached", func(b *testing.B) {
			b.SetBytes(4096)
			for b.Loop() {
				if err := s.Read(buf, va); err != nil {
					b.Fatal(err)
				}
			}
		})
		if backing.name == "anon" {
			b.Run("anon/syscall-8B", func(b *testing.B) {
				for b.Loop() {
					if err := vmIO(os.Getpid(), buf[:8], hva+0x100000, false); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestVirtualReadThroughProcess checks the pieces together: page tables in
// host memory, walked through process_vm_readv.
func TestVirtualReadThroughProcess(t *testing.T) {
	host, hva := hostRegion(t, 4<<20)
	pt := vmitest.NewTables(&vmitest.Phys{Mem: host}, false, 0x100000, 0x200000)
	const va = 0xffff_8880_0020_0000
	pt.Map(va, 0x200000, vmitest.Page2M)
	src, err := OpenProcess(os.Getpid(), []Range{{Size: 4 << 20, Off: hva, Name: "ram"}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	s := vmi.NewMemory(src).Space(pt.Root, 0)
	got := make([]byte, 10000)
	if err := s.Read(got, va+0x1f0000); err != nil || !bytes.Equal(got, host[0x3f0000:0x3f0000+10000]) {
		t.Fatalf("read through a 2 MiB page: %v", err)
	}
}
