package physmem

import (
	"os"
	"slices"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"nitro/core/vmi"
)

// TestDataSkipsUntouchedMemory maps guest RAM the two ways QEMU does, a
// shared memfd and anonymous memory, writes two pages of each, and wants
// Data to name those pages only, leaving the rest unallocated.
func TestDataSkipsUntouchedMemory(t *testing.T) {
	const size = 8 << 20
	fd, err := unix.MemfdCreate("pc.ram", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Ftruncate(fd, size); err != nil {
		t.Fatal(err)
	}
	shared, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(shared)
	anon, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(anon)
	// Huge pages would make the kernel allocate 2 MiB for one touched byte.
	if err := unix.Madvise(anon, unix.MADV_NOHUGEPAGE); err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{shared, anon} {
		b[0x10_0000] = 1
		b[0x40_2000] = 1
	}
	const high = 0x1_0000_0000
	src, err := OpenProcess(os.Getpid(), []Range{
		{GPA: 0, Size: size, Off: uint64(uintptr(unsafe.Pointer(&shared[0]))), Name: "memfd"},
		{GPA: high, Size: size, Off: uint64(uintptr(unsafe.Pointer(&anon[0]))), Name: "anon"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	got, err := src.Data(0, high+size)
	if err != nil {
		t.Fatal(err)
	}
	want := []vmi.Range{
		{Start: 0x10_0000, End: 0x10_1000}, {Start: 0x40_2000, End: 0x40_3000},
		{Start: high + 0x10_0000, End: high + 0x10_1000}, {Start: high + 0x40_2000, End: high + 0x40_3000},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Data = %x, want %x", got, want)
	}
	// A range inside a page is clipped to the range.
	if got, _ := src.Data(0x10_0010, 0x20); !slices.Equal(got, []vmi.Range{{Start: 0x10_0010, End: 0x10_0030}}) {
		t.Errorf("Data(0x100010, 0x20) = %x", got)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	if st.Blocks*512 > 2*4096 {
		t.Errorf("the memfd has %d bytes allocated after Data, want the 2 pages written", st.Blocks*512)
	}
}

func TestDumpData(t *testing.T) {
	path := t.TempDir() + "/ram.raw"
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	// A sparse raw dump: 4 MiB with one page of data at 1 MiB.
	if err := f.Truncate(4 << 20); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("data"), 1<<20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	src, err := OpenRaw(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	got, err := src.Data(0, 4<<20)
	if err != nil {
		t.Fatal(err)
	}
	// File systems report data in their block size, at least a page.
	if len(got) != 1 || got[0].Start > 1<<20 || got[0].End < 1<<20+4 || got[0].End-got[0].Start > 1<<20 {
		t.Fatalf("Data = %x, want one range around 0x100000", got)
	}
}
