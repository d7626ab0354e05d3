package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"nitro/api"
	"nitro/core"
	"nitro/internal/lab"
)

// attachGuests are the sizes BenchmarkAttach compares: what attaching
// costs must not grow with the guest's RAM, which the guest barely uses.
// RAM in a memfd (the lab's) or anonymous (libvirt's default); 16 GiB is
// about the most anonymous RAM this 24 GiB host's overcommit accepts.
var attachGuests = []lab.Guest{
	{Name: "nitro-mem-256m", MemMB: 256, Backing: "memfd"},
	{Name: "nitro-mem-8g", MemMB: 8 << 10, Backing: "memfd"},
	{Name: "nitro-mem-64g", MemMB: 64 << 10, Backing: "memfd"},
	{Name: "nitro-anon-256m", MemMB: 256, Backing: "anon"},
	{Name: "nitro-anon-16g", MemMB: 16 << 10, Backing: "anon"},
}

// BenchmarkAttach measures, for each size of guest, attach → first event
// (the busy workload makes a call at once) and how much the host allocated
// for the guest across the attaches (QEMU's private RSS and its memfds'
// allocated size). Each guest is booted for its sub-benchmark and taken
// down after it. Goals: under 1 s and under 64 MiB, on every size.
func BenchmarkAttach(b *testing.B) {
	lab.RequireRoot(b)
	for _, g := range attachGuests {
		g.Kernel, g.VCPUs, g.Workload, g.Vendor = "6.1", 1, "busy", "AMD"
		b.Run(fmt.Sprintf("%s-%dMiB", g.Backing, g.MemMB), func(b *testing.B) {
			running, err := isRunning(g.Name)
			if err != nil {
				b.Fatal(err)
			}
			if !running {
				if err := g.Up(); err != nil {
					b.Fatal(err)
				}
				defer g.Down()
			}
			before := hostMemory(b, g)
			var total time.Duration
			for b.Loop() {
				total += attachToFirstEvent(b, g)
			}
			grew := int64(hostMemory(b, g).total()) - int64(before.total())
			b.ReportMetric(total.Seconds()/float64(b.N), "attach-s")
			b.ReportMetric(float64(grew)/(1<<20), "host-alloc-MiB")
		})
	}
}

// attachToFirstEvent attaches to g, waits for its first call and detaches.
func attachToFirstEvent(b *testing.B, g lab.Guest) time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	sess, err := core.Attach(ctx, lab.URI, g.Name, core.Options{})
	if err != nil {
		b.Fatal(err)
	}
	sub := sess.Subscribe(16, api.Lossy)
	done := make(chan error, 1)
	go func() { done <- sess.Run(ctx) }()
	_, ok := <-sub.C()
	took := time.Since(start)
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	if err := sess.Close(); err != nil {
		b.Fatal(err)
	}
	if !ok {
		b.Fatal("the session ended before its first event")
	}
	return took
}
