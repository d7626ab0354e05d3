package ui

import (
	"context"
	"slices"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"nitro/api"
	"nitro/ui/views"
)

// injectPurpose tells the injection prompt's PromptMsg apart.
type injectPurpose struct{}

// injectLabel is the injection prompt's label: the syntax is --inject's.
const injectLabel = "inject (strace syntax): "

// toggleInject opens the injection prompt for the selected call's name
// (in its process only, with perProcess), filled in to make its next call
// fail with ENOENT; when injections on that name (and process) are armed,
// it disarms them instead, as the break keys do.
func (a *attached) toggleInject(m *Model, perProcess bool) tea.Cmd {
	r, ok := a.syscalls.Selected()
	if !ok {
		m.setNote("no call selected to inject a fault into", true)
		return nil
	}
	in := api.Injection{Names: []string{r.Call.Name}, Errno: "ENOENT", Count: 1}
	if perProcess {
		in.PID = r.Call.Process.PID
	}
	var armed []api.Injection
	for _, have := range a.stats.Injections {
		if !have.Not && have.PID == in.PID && slices.Equal(have.Names, in.Names) {
			armed = append(armed, have.Injection)
		}
	}
	if len(armed) == 0 {
		m.prompt.Open(injectLabel, in.String(), injectPurpose{})
		return nil
	}
	specs := make([]string, len(armed))
	for i, have := range armed {
		specs[i] = have.String()
	}
	return a.run("injection cleared: "+views.Plain(strings.Join(specs, ", ")),
		func(ctx context.Context, s api.Session) error {
			for _, have := range armed {
				if err := s.ClearInjection(ctx, have); err != nil {
					return err
				}
			}
			return nil
		},
		func(a *attached) {
			a.stats.Injections = slices.DeleteFunc(a.stats.Injections, func(have api.ArmedInjection) bool {
				return slices.Contains(specs, have.String())
			})
		})
}

// inject arms the injection the prompt's input spells.
func (a *attached) inject(m *Model, input string) tea.Cmd {
	in, err := api.ParseInjection(strings.TrimSpace(input))
	if err != nil {
		m.setNote(err.Error(), true)
		return nil
	}
	spec := in.String()
	return a.run("injection armed: "+views.Plain(spec),
		func(ctx context.Context, s api.Session) error { return s.Inject(ctx, in) },
		func(a *attached) { // the status bar shows it before the next snapshot
			a.stats.Injections = slices.DeleteFunc(a.stats.Injections, func(have api.ArmedInjection) bool { return have.String() == spec })
			a.stats.Injections = append(a.stats.Injections, api.ArmedInjection{Injection: in})
		})
}
