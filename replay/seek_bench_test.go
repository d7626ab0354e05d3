package replay

import (
	"context"
	"testing"

	"nitro/api"
	"nitro/record/recordtest"
)

// BenchmarkOpenSeek is `nitro replay --at` to the middle of a recording of
// a million calls: one op opens the recording, attaches, finds the block
// of the middle seq through the index, decodes it and delivers the call
// there. The reader takes one call a batch, so the batching of a playback
// adds no wait. Goal: open-seek-ms at most 200.
func BenchmarkOpenSeek(b *testing.B) {
	const n = 1_000_000
	path := recordtest.WriteStream(b, meta, n)
	ctx := context.Background()
	for b.Loop() {
		h, err := Open(path, Options{Start: n / 2})
		if err != nil {
			b.Fatal(err)
		}
		s, err := h.Attach(ctx, meta.Domain, api.AttachOptions{})
		if err != nil {
			b.Fatal(err)
		}
		sub := s.Subscribe(1, api.Lossless)
		go s.Run(ctx)
		if batch := <-sub.C(); len(batch) != 1 || batch[0].Seq != n/2 {
			b.Fatalf("the first batch is not the call of seq %d alone: %+v", n/2, batch)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "open-seek-ms")
}
