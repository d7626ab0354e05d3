package e2e

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"nitro/core"
	"nitro/core/kvm/domain"
	"nitro/internal/lab"
)

// busy makes system calls as fast as it can (lab/guest/busy.c) and prints
// its rate each second: the benchmarks' guest. Tests never use it.
var busy = &onDemand{Guest: lab.Guest{Name: "nitro-lab-busy", Kernel: "6.1", VCPUs: 1, Workload: "busy", Vendor: "AMD"}}

// onDemand is a guest that only benchmarks use: the first one that needs it
// boots it. If the run booted it, TestMain takes it down at the end: a busy
// guest eats host CPUs.
type onDemand struct {
	lab.Guest
	once   sync.Once
	booted bool
	err    error
}

// onDemandGuests are every guest takeOnDemandDown looks after.
var onDemandGuests = []*onDemand{busy, smp8, many}

// up boots the guest unless it runs already.
func (o *onDemand) up(tb testing.TB) lab.Guest {
	tb.Helper()
	lab.RequireRoot(tb)
	o.once.Do(func() {
		running, err := isRunning(o.Name)
		if err == nil && !running {
			o.booted = true
			err = o.Up()
		}
		o.err = err
	})
	if o.err != nil {
		tb.Fatal(o.err)
	}
	return o.Guest
}

func busyGuest(tb testing.TB) lab.Guest {
	tb.Helper()
	g := busy.up(tb)
	quiet(tb)
	return g
}

// quiet pauses the light lab guests until the end of a measurement on the
// busy one: on a host of two cores their workloads move its rate more than
// nitro does.
func quiet(tb testing.TB) {
	for _, g := range guests {
		dom := labDomain(tb, g)
		if err := dom.Suspend(); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() {
			if err := dom.Resume(); err != nil {
				tb.Error(err)
			}
		})
	}
}

func isRunning(name string) (bool, error) {
	dom, err := domain.OpenDomain(lab.URI, name)
	if errors.Is(err, domain.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer dom.Close()
	info, err := dom.Info()
	return err == nil && info.State == domain.Running, err
}

// takeOnDemandDown takes down the guests this run booted on demand.
func takeOnDemandDown() error {
	var errs []error
	for _, o := range onDemandGuests {
		if o.booted {
			errs = append(errs, o.Down())
		}
	}
	return errors.Join(errs...)
}

var busyLine = regexp.MustCompile(`^nitro-busy: (\d+) syscalls/s`)

// busyRates returns the busy guest's next n per-second rates, skipping the
// second under way.
func busyRates(tb testing.TB, n int) []float64 {
	tb.Helper()
	pos, err := busy.SerialSize()
	if err != nil {
		tb.Fatal(err)
	}
	var rates []float64
	for len(rates) < n+1 {
		var m []string
		if m, pos, err = busy.WaitSerial(busyLine, pos, 30*time.Second); err != nil {
			tb.Fatal(err)
		}
		r, _ := strconv.ParseFloat(m[1], 64)
		rates = append(rates, r)
	}
	return rates[1:]
}

// tracedRates attaches nitro to the busy guest, stopping only at openat,
// which the guest never calls, and returns its next n per-second rates.
func tracedRates(tb testing.TB, n int) []float64 {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sess, err := core.Attach(ctx, lab.URI, busy.Name, core.Options{Syscalls: []string{"openat"}})
	if err != nil {
		tb.Fatal(err)
	}
	defer sess.Close()
	done := make(chan error, 1)
	go func() { done <- sess.Run(ctx) }()
	rates := busyRates(tb, n)
	cancel()
	if err := <-done; err != nil {
		tb.Fatal(err)
	}
	if err := sess.Close(); err != nil {
		tb.Fatal(err)
	}
	if st := sess.Stats(); st.Events != 0 {
		tb.Fatalf("the busy guest called openat %d times while traced", st.Events)
	}
	return rates
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s) == 0 {
		return 0
	}
	return (s[(len(s)-1)/2] + s[len(s)/2]) / 2
}
