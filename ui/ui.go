package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"nitro/api"
	"nitro/themes"
	"nitro/ui/common"
	"nitro/ui/views"
)

// Options configure the UI.
type Options struct {
	Hypervisor api.Hypervisor
	Domain     string // attach to this domain at start; "" opens the domain list
	Palette    themes.Palette
	Keys       common.KeyMap
	History    int           // rows the syscall pane keeps (calls.DefaultLimit when 0)
	Refresh    time.Duration // domain list and status refresh (time.Second when 0)
	// ReadOnly makes the keys that change a guest or a domain answer
	// "read-only session": a viewer of a session it may only watch.
	ReadOnly bool
	// Renderer styles the screen for a terminal other than the process's
	// own (an SSH session's); nil for lipgloss's default.
	Renderer *lipgloss.Renderer
}

// ErrNoQuitKey is a key map in which no key quits: the terminal would be
// stuck in the UI.
var ErrNoQuitKey = errors.New("the key map binds neither quit nor force_quit")

// Run shows the UI until the user quits or ctx ends, then detaches from any
// domain still attached, whatever way the program ended.
func Run(ctx context.Context, opts Options, progOpts ...tea.ProgramOption) error {
	if !opts.Keys.Quit.Enabled() && !opts.Keys.ForceQuit.Enabled() {
		return ErrNoQuitKey
	}
	if opts.Renderer == nil && opts.Palette.Colorless() && lipgloss.ColorProfile() == termenv.Ascii &&
		termenv.NewOutput(os.Stdout).ColorProfile() != termenv.Ascii {
		// NO_COLOR makes lipgloss drop every attribute, selection included;
		// a palette without colour uses only reverse and bold, which NO_COLOR allows.
		lipgloss.SetColorProfile(termenv.ANSI)
	}
	m := New(ctx, opts)
	p := tea.NewProgram(m, append([]tea.ProgramOption{tea.WithAltScreen(), tea.WithContext(ctx)}, progOpts...)...)
	_, err := p.Run()
	if cerr := m.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("detaching: %w", cerr)
	}
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil // a signal or the caller ended it: not a failure
	}
	return err
}

// Model is the root: it owns the screen, handles global keys and forwards
// the rest to the focused view. Update does no I/O: sessions and libvirt are
// reached through tea.Cmds only.
type Model struct {
	c        *common.Common
	opts     Options
	help     help.Model
	showHelp bool
	domains  *views.Domains
	prompt   *views.Prompt
	note     string // the message line
	noteErr  bool
	att      *attached // nil on the domain list
	closing  []api.Session
	// recorders are the record key's, whose files Close closes.
	recorders []*recorder
}

// New builds the root model; Run runs it, tests drive it directly.
func New(ctx context.Context, opts Options) *Model {
	if opts.Refresh <= 0 {
		opts.Refresh = time.Second
	}
	keys := opts.Keys
	r := opts.Renderer
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	c := &common.Common{Ctx: ctx, Styles: common.NewStylesFor(r, opts.Palette), Keys: &keys}
	h := help.New()
	h.Styles = c.Styles.Help
	return &Model{
		c:       c,
		opts:    opts,
		help:    h,
		domains: views.NewDomains(c, opts.Hypervisor, opts.Refresh),
		prompt:  views.NewPrompt(c),
	}
}

// Close detaches from every session the model still holds.
func (m *Model) Close() error {
	for _, r := range m.recorders {
		r.close()
	}
	var errs []error
	if m.att != nil {
		m.att.cancel()
		errs = append(errs, m.att.sess.Close())
	}
	for _, s := range m.closing {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// Init implements tea.Model.
func (m *Model) Init() tea.Cmd {
	if m.opts.Domain == "" {
		return m.domains.Init()
	}
	name := m.opts.Domain
	m.setNote("attaching to "+views.Plain(name)+"...", false)
	return views.Attach(m.c.Ctx, m.opts.Hypervisor, name)
}

// detachedMsg says a session's Close returned.
type detachedMsg struct {
	sess api.Session
	err  error
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	if m.att != nil {
		m.att.syncInspector()
	}
	return m, cmd
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.c.SetSize(msg.Width, msg.Height)
		m.layout()
		return nil
	case tea.KeyMsg:
		return m.key(msg)
	case views.AttachMsg:
		return m.attachDone(msg)
	case detachedMsg:
		m.dropClosing(msg.sess)
		if msg.err != nil {
			m.setNote("detaching: "+msg.err.Error(), true)
		}
		return nil
	case views.PromptMsg:
		return m.promptDone(msg)
	case reattachedMsg:
		if m.att == nil || m.att.sess != msg.old { // the screen was left meanwhile
			if msg.err != nil {
				return nil
			}
			return m.closeSession(msg.sess)
		}
		return m.att.reattached(m, msg)
	}
	if m.att != nil {
		return m.att.update(m, msg)
	}
	_, cmd := m.domains.Update(msg)
	return cmd
}

func (m *Model) key(k tea.KeyMsg) tea.Cmd {
	keys := m.c.Keys
	switch {
	case key.Matches(k, keys.ForceQuit):
		return tea.Quit
	case m.prompt.Opened():
		_, cmd := m.prompt.Update(k)
		return cmd
	case key.Matches(k, keys.Help):
		m.showHelp = !m.showHelp
		return nil
	case m.showHelp && key.Matches(k, keys.Clear):
		m.showHelp = false
		return nil
	case m.opts.ReadOnly && m.changes(k):
		if m.att == nil {
			m.domains.SetStatus(api.ErrReadOnly.Error(), true)
		} else {
			m.setNote(api.ErrReadOnly.Error(), true)
		}
		return nil
	}
	if m.att != nil {
		return m.att.key(m, k)
	}
	if key.Matches(k, keys.Quit) {
		return tea.Quit
	}
	m.note = ""
	_, cmd := m.domains.Update(k)
	return cmd
}

// changes says k is a key that would change the guest or a domain (or
// write a recording), unless the man page over the panes takes it.
func (m *Model) changes(k tea.KeyMsg) bool {
	keys := m.c.Keys
	if m.att == nil {
		return key.Matches(k, keys.Start, keys.Shutdown, keys.Pause)
	}
	return !m.att.man.Opened() && key.Matches(k, keys.Break, keys.BreakPID, keys.BreakExit, keys.Edit, keys.Continue,
		keys.Pause, keys.Inject, keys.InjectPID, keys.Record)
}

func (m *Model) attachDone(msg views.AttachMsg) tea.Cmd {
	if msg.Err != nil {
		m.note = ""
		m.domains.SetStatus(msg.Err.Error(), true)
		if m.opts.Domain != "" {
			m.opts.Domain = "" // --domain failed: fall back to the list, showing why
			return m.domains.Init()
		}
		return nil
	}
	if m.att != nil { // a second attach raced the first: keep the first
		return m.closeSession(msg.Session)
	}
	m.note = ""
	m.att = newAttached(m.c, msg.Session, msg.Name, m.opts.History)
	m.layout()
	return m.att.start(m.opts.Refresh)
}

// detach leaves the attached screen: back to the domain list, or out of the
// program when it was started attached.
func (m *Model) detach(why string, isErr bool) tea.Cmd {
	s := m.att.sess
	m.att.cancel()
	m.att = nil
	m.domains.SetStatus(why, isErr)
	if m.opts.Domain != "" {
		m.closing = append(m.closing, s) // Run closes it once the program is gone
		return tea.Quit
	}
	m.layout()
	return tea.Batch(m.closeSession(s), m.domains.Init())
}

func (m *Model) closeSession(s api.Session) tea.Cmd {
	m.closing = append(m.closing, s)
	return func() tea.Msg { return detachedMsg{s, s.Close()} }
}

func (m *Model) dropClosing(s api.Session) {
	for i, have := range m.closing {
		if have == s {
			m.closing = append(m.closing[:i], m.closing[i+1:]...)
			return
		}
	}
}

// filterPurpose, editPurpose and lenPurpose (the question whether an
// edit sets a buffer's length too) tell PromptMsgs apart.
type (
	filterPurpose struct{}
	editPurpose   struct{ target views.EditTarget }
	lenPurpose    struct{ edit api.Edit }
)

func (m *Model) promptDone(msg views.PromptMsg) tea.Cmd {
	if m.att == nil {
		return nil
	}
	switch p := msg.For.(type) {
	case filterPurpose:
		return m.att.setQuery(m, msg.Value)
	case editPurpose:
		return m.att.edit(m, p.target, msg.Value)
	case lenPurpose:
		return m.att.setLen(m, p.edit, msg.Value)
	case injectPurpose:
		return m.att.inject(m, msg.Value)
	case seekPurpose:
		return m.att.seekTo(m, msg.Value)
	}
	return nil
}

func (m *Model) setNote(s string, isErr bool) { m.note, m.noteErr = views.Plain(s), isErr }

// The fixed lines: status bar, message or prompt, short help.
const attachedChrome = 3

// layout hands every view its share of the screen.
func (m *Model) layout() {
	w, h := m.c.Width, m.c.Height
	m.help.Width = w
	m.prompt.SetSize(w, 1)
	m.domains.SetSize(w, max(h-1, 1))
	if m.att != nil {
		m.att.layout(w, max(h-attachedChrome, 3))
	}
}

// View implements tea.Model.
func (m *Model) View() string {
	if m.c.Width == 0 {
		return "" // no size yet
	}
	if m.att == nil {
		return m.withHelp(m.domains.View()+"\n"+m.shortHelp(m.domains), m.domains)
	}
	a := m.att
	return m.withHelp(lipgloss.JoinVertical(lipgloss.Left,
		a.view(),
		views.StatusBar(m.c.Styles, m.c.Width, a.status()),
		m.noteLine(),
		m.shortHelp(a.focused()),
	), a.focused())
}

// helpMargin is how much of the screen shows at least on either side of the
// help box.
const helpMargin = 2

// withHelp lays the help of v and the global keys over screen while it is
// shown: a box in the middle, the screen still visible around it.
func (m *Model) withHelp(screen string, v help.KeyMap) string {
	if !m.showHelp {
		return screen
	}
	box := m.c.Styles.Overlay
	w := max(m.c.Width-box.GetHorizontalFrameSize()-2*helpMargin, 1)
	h := max(m.c.Height-box.GetVerticalFrameSize(), 1)
	return views.Overlay(screen, box.Render(m.fullHelp(v, w, h)), m.c.Width, m.c.Height)
}

func (m *Model) noteLine() string {
	switch {
	case m.prompt.Opened():
		return m.prompt.View()
	case m.noteErr:
		return m.c.Styles.Error.Render(cutLine(m.note, m.c.Width))
	case m.note == "" && m.att != nil && m.att.lost != "":
		return m.c.Styles.Error.Render(cutLine(m.att.lost, m.c.Width))
	}
	return m.c.Styles.Muted.Render(cutLine(m.note, m.c.Width))
}

func (m *Model) globals() []key.Binding {
	k := m.c.Keys
	if m.att != nil {
		return []key.Binding{k.NextPane, k.Help, k.Quit}
	}
	return []key.Binding{k.Help, k.Quit}
}

func (m *Model) shortHelp(v help.KeyMap) string {
	if m.prompt.Opened() {
		v = m.prompt
	}
	keys := append(v.ShortHelp(), m.globals()...)
	if m.att != nil && m.att.lost != "" && !m.prompt.Opened() { // first: the line is cut at the screen's width
		keys = append([]key.Binding{m.c.Keys.Reattach}, keys...)
	}
	return cutLine(m.help.ShortHelpView(keys), m.c.Width)
}

// fullHelp flows the help's columns into as many rows as width needs
// (bubbles/help would drop the columns that do not fit), cut to height.
func (m *Model) fullHelp(v help.KeyMap, width, height int) string {
	k := m.c.Keys
	always := []key.Binding{k.NextPane, k.PrevPane, k.Help, k.Quit, k.ForceQuit}
	if m.att != nil && m.att.lost != "" {
		always = append([]key.Binding{k.Reattach}, always...)
	}
	groups := append(v.FullHelp(), always)
	const gap = "   "
	var rows, row []string
	rowW := 0
	for _, g := range groups {
		col := m.help.FullHelpView([][]key.Binding{g})
		if col == "" {
			continue // every key of the group is unbound
		}
		w := lipgloss.Width(col)
		if len(row) > 0 && rowW+len(gap)+w > width {
			rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...), "")
			row, rowW = nil, 0
		}
		if len(row) > 0 {
			row, rowW = append(row, gap), rowW+len(gap)
		}
		row, rowW = append(row, col), rowW+w
	}
	rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
	return lipgloss.NewStyle().MaxHeight(height).MaxWidth(width).Render(strings.Join(rows, "\n"))
}
