package physmem

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"nitro/core/vmi"
)

// hostRegion maps size bytes of anonymous memory in the test process, which
// reads it back through its own pid as it would read QEMU's.
func hostRegion(tb testing.TB, size int) ([]byte, uint64) {
	tb.Helper()
	b, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { unix.Munmap(b) })
	for i := range b {
		b[i] = byte(i*13 + i>>12)
	}
	return b, uint64(uintptr(unsafe.Pointer(&b[0])))
}

// memfdRegion maps size bytes of a memfd shared, as QEMU maps a memfd
// memory backend.
func memfdRegion(tb testing.TB, size int) ([]byte, uint64) {
	tb.Helper()
	fd, err := unix.MemfdCreate("pc.ram", 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		tb.Fatal(err)
	}
	b, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { unix.Munmap(b) })
	for i := range b {
		b[i] = byte(i*7 + i>>12)
	}
	return b, uint64(uintptr(unsafe.Pointer(&b[0])))
}

func TestProcessSourceMapsSharedMemory(t *testing.T) {
	host, hva := memfdRegion(t, 2<<20)
	src, err := OpenProcess(os.Getpid(), []Range{{GPA: 0x1000_0000, Size: 2 << 20, Off: hva, Name: "pc.ram"}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if n := len(src.st.(*procStore).views); n != 1 {
		t.Fatalf("%d local views of the memfd, want 1", n)
	}
	got := make([]byte, 8192)
	if err := src.ReadPhys(got[:4096], 0x1000_0000+0x1ff000); err != nil || !bytes.Equal(got[:4096], host[0x1ff000:]) {
		t.Fatalf("read at the end: %v", err)
	}
	if err := src.WritePhys([]byte("shared"), 0x1000_0000+0x10); err != nil || string(host[0x10:0x16]) != "shared" {
		t.Fatalf("write: %v, host has %q", err, host[0x10:0x16])
	}
	// Anonymous memory is never mapped here: no file holds its pages.
	_, anon := hostRegion(t, 1<<20)
	src2, err := OpenProcess(os.Getpid(), []Range{{Size: 1 << 20, Off: anon}})
	if err != nil {
		t.Fatal(err)
	}
	defer src2.Close()
	if n := len(src2.st.(*procStore).views); n != 0 {
		t.Fatalf("%d views of anonymous memory", n)
	}
}

func TestProcessSource(t *testing.T) {
	host, hva := hostRegion(t, 4<<20)
	// Guest RAM split around a hole, the upper part stored first, as QEMU
	// does for RAM above 4 GiB.
	src, err := OpenProcess(os.Getpid(), []Range{
		{GPA: 0, Size: 1 << 20, Off: hva + 3<<20, Name: "low"},
		{GPA: 1 << 32, Size: 3 << 20, Off: hva, Name: "high"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()

	got := make([]byte, 8192)
	if err := src.ReadPhys(got[:4096], 0xff000); err != nil || !bytes.Equal(got[:4096], host[3<<20+0xff000:][:4096]) {
		t.Fatalf("low RAM read: %v", err)
	}
	if err := src.ReadPhys(got, 1<<32+0x2000); err != nil || !bytes.Equal(got, host[0x2000:0x4000]) {
		t.Fatalf("high RAM read: %v", err)
	}
	if err := src.ReadPhys(got, 0xff000); !errors.Is(err, vmi.ErrOutOfRange) {
		t.Fatalf("read running into the hole: err = %v", err)
	}
	if err := src.WritePhys([]byte("nitro"), 1<<32+10); err != nil || string(host[10:15]) != "nitro" {
		t.Fatalf("write: %v, host has %q", err, host[10:15])
	}
}

func TestProcessSourceChecksLayout(t *testing.T) {
	host, hva := hostRegion(t, 3<<20)
	// Make the middle of the host region unreadable. Unmapping it instead
	// would hand the addresses back: the Go heap may grow into them, and
	// the cleanup's munmap of the whole region would then take its pages.
	if err := unix.Mprotect(host[1<<20:2<<20], unix.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	_, err := OpenProcess(os.Getpid(), []Range{
		{GPA: 0, Size: 1 << 20, Off: hva, Name: "fine"},
		{GPA: 1 << 20, Size: 2 << 20, Off: hva + 1<<20, Name: "over the hole"},
	})
	if !errors.Is(err, ErrBadLayout) {
		t.Fatalf("err = %v, want ErrBadLayout", err)
	}
}

// TestProcMemFallback runs the /proc/PID/mem path the source falls back to
// where process_vm_readv is refused.
func TestProcMemFallback(t *testing.T) {
	host, hva := hostRegion(t, 1<<16)
	ps := &procStore{pid: os.Getpid()}
	f, err := ps.openMem()
	if err != nil {
		t.Fatal(err)
	}
	defer ps.close()
	if err := fileIO(f, []byte("mem"), hva+100, true); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 5000)
	if err := fileIO(f, got, hva+50, false); err != nil || !bytes.Equal(got, host[50:5050]) || string(host[100:103]) != "mem" {
		t.Fatalf("fileIO: %v", err)
	}
	// The store uses the opened file from now on.
	if err := ps.readAt(got[:10], hva+100); err != nil || string(got[:3]) != "mem" {
		t.Fatalf("readAt through the fallback: %v %q", err, got[:3])
	}
}

// BenchmarkBulkRead reads 64 MiB in 1 MiB chunks through the process source
// and with raw process_vm_readv, alternating within each iteration so both
// see the same host load. It reports both rates and source/raw.
func BenchmarkBulkRead(b *testing.B) {
	const size, chunk = 64 << 20, 1 << 20
	_, hva := hostRegion(b, size)
	src, err := OpenProcess(os.Getpid(), []Range{{GPA: 0x100000, Size: size, Off: hva, Name: "ram"}})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	buf := make([]byte, chunk)
	pid := os.Getpid()
	var srcTime, rawTime time.Duration
	for b.Loop() {
		t0 := time.Now()
		for off := uint64(0); off < size; off += chunk {
			if err := src.ReadPhys(buf, 0x100000+off); err != nil {
				b.Fatal(err)
			}
		}
		t1 := time.Now()
		for off := uint64(0); off < size; off += chunk {
			local := []unix.Iovec{{Base: &buf[0], Len: chunk}}
			remote := []unix.RemoteIovec{{Base: uintptr(hva + off), Len: chunk}}
			if n, err := unix.ProcessVMReadv(pid, local, remote, 0); err != nil || n != chunk {
				b.Fatal(n, err)
			}
		}
		srcTime += t1.Sub(t0)
		rawTime += time.Since(t1)
	}
	mb := float64(b.N) * size / 1e6
	b.ReportMetric(mb/srcTime.Seconds(), "source-MB/s")
	b.ReportMetric(mb/rawTime.Seconds(), "raw-MB/s")
	b.ReportMetric(rawTime.Seconds()/srcTime.Seconds(), "source/raw")
}
