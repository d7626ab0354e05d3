package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"nitro/api"
	"nitro/themes"
	"nitro/ui"
	"nitro/ui/uitest"
)

// config is what the flags set.
type config struct {
	rate     int           // events per second
	every    time.Duration // batch interval
	history  int           // rows kept, 0: the UI's default
	dur      time.Duration // headless run time, 0: interactive
	keyEvery time.Duration // headless: time between key presses
	theme    string
	benchfmt bool // also print the figures as a `go test -bench` result line
}

func main() {
	var c config
	flag.IntVar(&c.rate, "rate", 100_000, "events per second")
	flag.DurationVar(&c.every, "batch", 30*time.Millisecond, "batch interval")
	flag.IntVar(&c.history, "history", 0, "rows kept (0: the UI's default)")
	flag.DurationVar(&c.dur, "for", 0, "run headless this long and report (0: interactive)")
	flag.DurationVar(&c.keyEvery, "keys", 100*time.Millisecond, "headless: time between key presses")
	flag.StringVar(&c.theme, "theme", "", "theme")
	flag.BoolVar(&c.benchfmt, "benchfmt", false, "headless: also print the figures as a go test -bench line, for internal/benchsum")
	flag.Parse()
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "flood:", err)
		os.Exit(1)
	}
}

func run(c config) error {
	if c.rate <= 0 || c.every <= 0 || c.dur < 0 || c.keyEvery <= 0 {
		return fmt.Errorf("-rate, -batch and -keys must be positive, -for not negative")
	}
	pal, err := themes.Select(c.theme, os.Getenv)
	if err != nil {
		return err
	}
	hv := uitest.NewHypervisor()
	s := uitest.NewSession()
	hv.Add(api.Domain{Name: "lab", State: "running", VCPUs: 2, MemoryKiB: 1 << 20}, s)
	opts := ui.Options{Hypervisor: hv, Domain: "lab", Palette: pal, Keys: *uitest.Keys(), History: c.history}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Flood(ctx, c.rate, c.every)
	if c.dur > 0 {
		f, err := measure(ctx, opts, s, c)
		if err != nil {
			return err
		}
		f.write(os.Stdout, c)
		if c.benchfmt {
			f.writeBench(os.Stdout)
		}
		return nil
	}
	err = ui.Run(ctx, opts)
	st := s.Stats()
	fmt.Fprintf(os.Stderr, "events %d, dropped before the UI %d\n", st.Events, st.Dropped)
	return err
}
