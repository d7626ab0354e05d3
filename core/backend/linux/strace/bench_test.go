package strace

import (
	"encoding/binary"
	"testing"
	"time"

	"nitro/core/backend"
	"nitro/internal/cputime"
)

// BenchmarkDecode decodes a mix of calls like a recorded desktop trace, one
// entry or exit per iteration, against in-memory guest memory. The
// events/s metrics are the figures the project's goal (>= 1M/s on one core)
// is about.
func BenchmarkDecode(b *testing.B) {
	mem := &fakeMem{}
	path := mem.str(0x401000, "/usr/lib/x86_64-linux-gnu/libc.so.6")
	buf := mem.put(0x7ffd0000, []byte("nitro probe input\nand some more bytes of the file\n"))
	st := make([]byte, statSize)
	binary.LittleEndian.PutUint32(st[24:], 0o100644)
	stp := mem.put(0x7ffd1000, st)
	ts := mem.put(0x7ffd2000, make([]byte, 16))
	type ev struct {
		nr   uint64
		args [6]uint64
		ret  int64
	}
	mix := []ev{
		{257, [6]uint64{atFdcwd, path, 0o2000000}, 3},
		{5, [6]uint64{3, stp}, 0},
		{0, [6]uint64{3, buf, 832}, 50},
		{9, [6]uint64{0, 8192, 3, 0x22, 0xffffffff, 0}, 0x7f0000001000},
		{1, [6]uint64{1, buf, 18}, 18},
		{202, [6]uint64{0x7f0000002000, 0x81, 1}, 1},
		{228, [6]uint64{1, ts}, 0},
		{3, [6]uint64{3}, 0},
		{257, [6]uint64{atFdcwd, path, 0}, -2},
		{232, [6]uint64{4, 0x7ffd3000, 16, 0xffffffff}, 1},
	}
	d := NewDecoder(Options{})
	var enter, exit backend.Syscall
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e := &mix[(i/2)%len(mix)]
		if i%2 == 0 {
			d.Enter(&enter, e.nr, e.args, mem)
		} else {
			d.Exit(&exit, e.nr, e.args, uint64(e.ret), mem, enter.Args)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	// On a loaded machine wall time undercounts: events per second of CPU
	// the process used (GC included) is the one-core figure.
	b.ReportMetric(float64(b.N)/(cpuTime(b)-cpu0).Seconds(), "events/cpu-s")
}

func cpuTime(b *testing.B) time.Duration {
	t, err := cputime.Used()
	if err != nil {
		b.Fatal(err)
	}
	return t
}
