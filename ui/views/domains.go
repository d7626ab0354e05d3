package views

import (
	"context"

	"errors"
	"fmt"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"nitro/api"
	"nitro/ui/common"
)

// AttachMsg is the result of attaching to a domain; the root switches
// screens on success.
type AttachMsg struct {
	Name    string
	Session api.Session
	Err     error
}

// Attach is the command that attaches to domain name; its AttachMsg
// reaches the root.
func Attach(ctx context.Context, hv api.Hypervisor, name string) tea.Cmd {
	return func() tea.Msg {
		s, err := hv.Attach(ctx, name, api.AttachOptions{})
		return AttachMsg{Name: name, Session: s, Err: err}
	}
}

// domainsMsg is a fresh domain list; failed are the hosts that did not
// answer, when the hypervisor joins several.
type domainsMsg struct {
	list   []api.Domain
	failed []api.HostError
	err    error
}

// controlMsg is the result of a run-state change.
type controlMsg struct {
	name string
	act  api.Action
	err  error
}

// refreshMsg is the list's refresh tick; gen drops ticks of an earlier Init.
type refreshMsg struct{ gen int }

// Domains is the domain list: state, vCPUs, memory, live refresh, run-state
// keys, and enter to attach.
type Domains struct {
	c       *common.Common
	hv      api.Hypervisor
	every   time.Duration
	gen     int
	width   int
	height  int
	list    []api.Domain
	failed  []api.HostError
	loaded  bool
	cursor  int
	status  string
	err     error
	confirm *controlMsg // a destructive action waiting for y
}

// NewDomains lists hv's domains, refreshing every interval.
func NewDomains(c *common.Common, hv api.Hypervisor, every time.Duration) *Domains {
	return &Domains{c: c, hv: hv, every: every}
}

// SetSize implements common.Component.
func (v *Domains) SetSize(width, height int) { v.width, v.height = width, height }

// SetStatus shows a message under the list: why an attach failed, that a
// session ended. It is host text: View shows it as is.
func (v *Domains) SetStatus(msg string, isErr bool) {
	msg = Plain(msg)
	v.err, v.status = nil, msg
	if isErr {
		v.err = errors.New(msg)
	}
}

// Init implements tea.Model: load now, then on every tick. Calling it again
// (back from a detach) restarts the refresh without doubling it.
func (v *Domains) Init() tea.Cmd {
	v.gen++
	return v.load()
}

func (v *Domains) load() tea.Cmd {
	ctx, hv, gen, every := v.c.Ctx, v.hv, v.gen, v.every
	return tea.Batch(
		func() tea.Msg {
			if hosts, ok := hv.(api.Hosts); ok {
				list, failed := hosts.HostDomains(ctx)
				return domainsMsg{list: list, failed: failed}
			}
			list, err := hv.Domains(ctx)
			return domainsMsg{list: list, err: err}
		},
		tea.Tick(every, func(time.Time) tea.Msg { return refreshMsg{gen} }),
	)
}

// Update implements tea.Model.
func (v *Domains) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case refreshMsg:
		if msg.gen == v.gen {
			return v, v.load()
		}
	case domainsMsg:
		v.setList(msg)
	case controlMsg:
		if msg.err != nil {
			v.err = msg.err
		} else {
			v.status = fmt.Sprintf("%s %s: done", msg.act, Plain(msg.name))
		}
		return v, v.load()
	case tea.KeyMsg:
		return v, v.key(msg)
	}
	return v, nil
}

func (v *Domains) setList(msg domainsMsg) {
	if msg.err != nil {
		v.err = msg.err
		return
	}
	var at string
	if v.cursor < len(v.list) {
		at = v.list[v.cursor].Address()
	}
	v.list, v.failed, v.loaded = msg.list, msg.failed, true
	v.cursor = 0
	for i, d := range v.list {
		if d.Address() == at {
			v.cursor = i
		}
	}
}

func (v *Domains) key(k tea.KeyMsg) tea.Cmd {
	if v.confirm != nil {
		c := *v.confirm
		v.confirm = nil
		if k.String() == "y" {
			return v.control(c.name, c.act)
		}
		v.status = "cancelled"
		return nil
	}
	keys := v.c.Keys
	switch {
	case key.Matches(k, keys.Up):
		v.cursor = max(v.cursor-1, 0)
	case key.Matches(k, keys.Down):
		v.cursor = max(min(v.cursor+1, len(v.list)-1), 0)
	case key.Matches(k, keys.Top):
		v.cursor = 0
	case key.Matches(k, keys.Bottom):
		v.cursor = max(len(v.list)-1, 0)
	}
	if len(v.list) == 0 {
		return nil
	}
	d := v.list[v.cursor]
	addr := d.Address() // HOST/NAME over several hosts
	switch {
	case key.Matches(k, keys.Select):
		v.err, v.status = nil, "attaching to "+Plain(addr)+"..."
		return Attach(v.c.Ctx, v.hv, addr)
	case key.Matches(k, keys.Start):
		return v.control(addr, api.Start)
	case key.Matches(k, keys.Shutdown):
		v.confirm = &controlMsg{name: addr, act: api.Shutdown}
	case key.Matches(k, keys.Pause):
		if d.Paused {
			return v.control(addr, api.Resume)
		}
		return v.control(addr, api.Suspend)
	}
	return nil
}

func (v *Domains) control(name string, act api.Action) tea.Cmd {
	v.err, v.status = nil, fmt.Sprintf("%s %s...", act, Plain(name))
	ctx, hv := v.c.Ctx, v.hv
	return func() tea.Msg {
		return controlMsg{name: name, act: act, err: hv.Control(ctx, name, act)}
	}
}

// View implements tea.Model.
func (v *Domains) View() string {
	st := v.c.Styles
	lines := []string{
		title(st, true, "Domains", v.width),
		st.Header.Render(fit(fmt.Sprintf("  %-24s %-14s %5s %10s", "NAME", "STATE", "VCPUS", "MEMORY"), v.width)),
	}
	if v.loaded && len(v.list) == 0 && len(v.failed) == 0 {
		lines = append(lines, st.Muted.Render(fit("  no domains", v.width)))
	}
	// rows: a header line where the host changes (none for a single host,
	// whose Host is ""), then the hosts that did not answer.
	var rows []string
	at := 0 // the cursor's row
	host := ""
	for i, d := range v.list {
		if d.Host != host {
			host = d.Host
			rows = append(rows, st.Header.Render(fit(Plain(host), v.width)))
		}
		mark := "  "
		if i == v.cursor {
			mark = "> " // visible without colour or attributes
		}
		line := fit(fmt.Sprintf("%s%-24s %-14s %5d %6d MiB", mark, Plain(d.Name), Plain(d.State), d.VCPUs, d.MemoryKiB/1024), v.width)
		if i == v.cursor {
			at = len(rows)
			line = st.Selected.Render(line)
		} else {
			line = st.Text.Render(line)
		}
		rows = append(rows, line)
	}
	for _, f := range v.failed {
		rows = append(rows, st.Header.Render(fit(Plain(f.Host), v.width)),
			st.Error.Render(fit("  did not answer: "+Plain(f.Err.Error()), v.width)))
	}
	shown := max(v.height-3, 1) // title, header, message
	top := max(0, at-shown+1)
	lines = append(lines, rows[top:min(top+shown, len(rows))]...)
	msg := ""
	switch {
	case v.confirm != nil:
		msg = st.Warn.Render(fit(fmt.Sprintf("%s %s? y to confirm, any other key cancels", v.confirm.act, Plain(v.confirm.name)), v.width))
	case v.err != nil:
		msg = st.Error.Render(fit(Plain(v.err.Error()), v.width))
	case v.status != "":
		msg = st.Muted.Render(fit(v.status, v.width))
	}
	body := lines[:min(len(lines), max(v.height-1, 0))]
	return pad(body, max(v.height-1, 0)) + "\n" + msg
}

// ShortHelp implements help.KeyMap.
func (v *Domains) ShortHelp() []key.Binding {
	k := v.c.Keys
	return []key.Binding{k.Select, k.Start, k.Shutdown, k.Pause}
}

// FullHelp implements help.KeyMap.
func (v *Domains) FullHelp() [][]key.Binding {
	k := v.c.Keys
	return [][]key.Binding{{k.Up, k.Down, k.Top, k.Bottom}, {k.Select, k.Start, k.Shutdown, k.Pause}}
}
