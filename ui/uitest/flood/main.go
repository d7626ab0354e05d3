// Command flood runs nitro's UI over the synthetic core at a given event
// rate, to watch it (in a terminal) or to measure it (-for, with the screen
// discarded, under /usr/bin/time -v for peak RSS):
//
//	go run ./ui/uitest/flood                       # interactive, 100k events/s
//	go build -o /tmp/flood ./ui/uitest/flood && /usr/bin/time -v /tmp/flood -for 20s
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"nitro/themes"
	"nitro/ui"
	"nitro/ui/model"
	"nitro/ui/uitest"
)

func main() {
	rate := flag.Int("rate", 100_000, "events per second")
	every := flag.Duration("batch", 30*time.Millisecond, "batch interval")
	history := flag.Int("history", 0, "rows kept (0: the UI's default)")
	dur := flag.Duration("for", 0, "run headless this long, then quit (0: interactive)")
	theme := flag.String("theme", "", "theme")
	flag.Parse()
	if err := run(*rate, *every, *history, *dur, *theme); err != nil {
		fmt.Fprintln(os.Stderr, "flood:", err)
		os.Exit(1)
	}
}

func run(rate int, every time.Duration, history int, dur time.Duration, theme string) error {
	pal, err := themes.Select(theme, os.Getenv)
	if err != nil {
		return err
	}
	hv := uitest.NewHypervisor()
	s := uitest.NewSession()
	hv.Add(model.Domain{Name: "lab", State: "running", VCPUs: 2, MemoryKiB: 1 << 20}, s)
	opts := ui.Options{Hypervisor: hv, Domain: "lab", Palette: pal, Keys: *uitest.Keys(), History: history}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Flood(ctx, rate, every)
	if dur == 0 {
		err = ui.Run(ctx, opts)
	} else {
		err = headless(ctx, opts, dur)
	}
	st := s.Stats()
	fmt.Fprintf(os.Stderr, "events %d, dropped before the UI %d\n", st.Total, st.Dropped)
	return err
}

// headless runs the UI with no terminal: a fixed 80x24 size, frames
// rendered to nowhere, quitting after dur.
func headless(ctx context.Context, opts ui.Options, dur time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	m := ui.New(ctx, opts)
	p := tea.NewProgram(m, tea.WithInput(nil), tea.WithOutput(io.Discard), tea.WithContext(ctx))
	go p.Send(tea.WindowSizeMsg{Width: 80, Height: 24})
	_, err := p.Run()
	if cerr := m.Close(); cerr != nil {
		return cerr
	}
	if ctx.Err() != nil {
		return nil // the time was up: the expected end
	}
	return err
}
