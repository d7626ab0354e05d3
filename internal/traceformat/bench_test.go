package traceformat

import (
	"io"
	"testing"

	"nitro/core/backend/linux/strace"
	"nitro/core/kvm"
)

func BenchmarkWrite(b *testing.B) {
	sc := openat(kvm.Exit, -2, "ENOENT")
	for _, w := range []struct {
		name string
		w    Writer
	}{{"json", NewJSON(io.Discard)}, {"text", NewText(io.Discard, strace.Result)}} {
		b.Run(w.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := w.w.Write(sc); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}
