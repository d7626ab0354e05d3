package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"syscall"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"nitro/ui"
	"nitro/ui/uitest"
)

// screenW and screenH are the terminal size the report is for.
const screenW, screenH = 80, 24

// measure runs the UI headless for c.dur the way ui.Run runs it (ui.New,
// the alternate screen, the standard renderer), with the probe around the
// root model and as the output, and the driver pressing keys.
func measure(ctx context.Context, opts ui.Options, s *uitest.Session, c config) (figures, error) {
	// Style as on a colour terminal: under `make bench | tee` stdout is a
	// pipe, and lipgloss would drop every style, making frames cheap.
	lipgloss.SetColorProfile(termenv.TrueColor)
	ctx, cancel := context.WithTimeout(ctx, c.dur)
	defer cancel()
	m := ui.New(ctx, opts)
	pr := newProbe(m, io.Discard)
	p := tea.NewProgram(pr, tea.WithAltScreen(), tea.WithContext(ctx), tea.WithInput(nil), tea.WithOutput(pr))
	go p.Send(tea.WindowSizeMsg{Width: screenW, Height: screenH})
	driven := make(chan struct{})
	go func() {
		defer close(driven)
		pr.drive(ctx, p.Send, c.keyEvery)
	}()
	start := time.Now()
	_, err := p.Run()
	elapsed := time.Since(start)
	timedOut := ctx.Err() != nil
	st := s.Stats()
	cancel()
	<-driven
	if cerr := m.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("detaching: %w", cerr)
	}
	switch {
	case !timedOut && err == nil:
		return figures{}, fmt.Errorf("the UI quit after %v, before the %v asked", elapsed.Round(time.Millisecond), c.dur)
	case err != nil && !(timedOut && errors.Is(err, tea.ErrProgramKilled)):
		return figures{}, fmt.Errorf("running the UI: %w", err)
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return figures{}, fmt.Errorf("reading peak RSS: %w", err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return figures{
		elapsed: elapsed,
		events:  st.Events, dropped: st.Dropped,
		maxRSS:    uint64(ru.Maxrss) << 10, // KiB on Linux
		heapInuse: ms.HeapInuse, numGC: ms.NumGC, gcPause: time.Duration(ms.PauseTotalNs),
		t: pr.timings(),
	}, nil
}
