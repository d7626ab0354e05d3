package traceformat

import (
	"io"
	"testing"

	"nitro/api"
)

func BenchmarkWrite(b *testing.B) {
	sc := openat(api.Exit, -2, "ENOENT")
	for _, w := range []struct {
		name string
		w    Writer
	}{{"json", NewJSON(io.Discard)}, {"text", NewText(io.Discard)}} {
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
