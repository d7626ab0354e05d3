package views

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"nitro/internal/manual"
	"nitro/ui/calls"
	"nitro/ui/common"
)

// manualMargin is how much of the panes shows on either side of the
// manual's box.
const manualMargin = 2

// Manual is a call's man page in a box over the panes: the call and what
// its errno and flags mean, then the page's synopsis, the start of its
// description, its return value and errors. The movement keys scroll it; the
// clear, quit or manual key closes it.
type Manual struct {
	c             *common.Common
	vp            viewport.Model
	row           calls.Row // a copy: the ring reuses its slots
	open          bool
	width, height int // the screen it is laid over
}

// NewManual is closed until Open.
func NewManual(c *common.Common) *Manual {
	vp := viewport.New(0, 0)
	vp.KeyMap = viewport.KeyMap{} // the key map's bindings scroll it, as the user bound them
	return &Manual{c: c, vp: vp}
}

// Open shows the manual of r's call, from its top.
func (v *Manual) Open(r calls.Row) {
	v.row, v.open = r, true
	v.layout()
	v.vp.GotoTop()
}

// Opened says whether the manual is shown, and takes the keys.
func (v *Manual) Opened() bool { return v.open }

// SetSize implements common.Component: the size of the screen it covers.
func (v *Manual) SetSize(width, height int) {
	v.width, v.height = width, height
	v.layout()
}

// layout fits the viewport in the box and wraps the text to it.
func (v *Manual) layout() {
	box := v.c.Styles.Overlay
	v.vp.Width = max(v.width-2*manualMargin-box.GetHorizontalFrameSize(), 1)
	v.vp.Height = max(v.height-box.GetVerticalFrameSize()-2, 1) // the title and the footer
	if v.open {
		v.vp.SetContent(strings.Join(v.lines(v.vp.Width), "\n"))
	}
}

// lines is the manual's text, wrapped to width and styled.
func (v *Manual) lines(width int) []string {
	st := v.c.Styles
	c := &v.row.Call
	var out []string
	// add wraps each line of text, host text made plain, under its own
	// indent after indent: a wrapped synopsis or flag line stays aligned.
	add := func(style lipgloss.Style, indent, text string) {
		for _, l := range strings.Split(text, "\n") {
			body := strings.TrimLeft(l, " ")
			in := indent + l[:len(l)-len(body)]
			for _, w := range strings.Split(ansi.Wrap(Plain(body), max(width-len(in), 1), ""), "\n") {
				out = append(out, style.Render(in+w))
			}
		}
	}
	head, tail := callText(&v.row)
	add(st.Text, "", head+tail)
	for _, l := range errnoLines(c) {
		add(st.Failed, "", l)
	}
	for _, a := range c.Args {
		for _, l := range flagLines(a.Text) {
			add(st.Text, "", l)
		}
	}
	p, ok := manual.Lookup(c.Name)
	if !ok {
		add(st.Muted, "", "\nThe "+manual.Version()+" have no page for "+callName(c)+".")
		return out
	}
	section := func(heading, text string) {
		if text == "" {
			return
		}
		out = append(out, "", st.Header.Render(heading))
		add(st.Text, "  ", text)
	}
	out = append(out, "")
	add(st.Header, "", fmt.Sprintf("%s(2): %s", p.Name, p.Summary))
	section("SYNOPSIS", p.Synopsis)
	section("DESCRIPTION", p.Description)
	section("RETURN VALUE", p.Return)
	var errs []string
	for _, e := range p.Errors {
		errs = append(errs, strings.Join(e.Codes, ", ")+": "+e.Text)
	}
	section("ERRORS", strings.Join(errs, "\n"))
	add(st.Muted, "", fmt.Sprintf("\nFrom the %s; man 2 %s has the whole page.", manual.Version(), p.Name))
	return out
}

// Init implements tea.Model.
func (v *Manual) Init() tea.Cmd { return nil }

// Update implements tea.Model: the movement keys scroll, and the clear,
// quit and manual keys close.
func (v *Manual) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return v, nil
	}
	keys := v.c.Keys
	switch {
	case key.Matches(k, keys.Clear, keys.Quit, keys.Manual):
		v.open = false
	case key.Matches(k, keys.Up):
		v.vp.ScrollUp(1)
	case key.Matches(k, keys.Down):
		v.vp.ScrollDown(1)
	case key.Matches(k, keys.PageUp):
		v.vp.PageUp()
	case key.Matches(k, keys.PageDown):
		v.vp.PageDown()
	case key.Matches(k, keys.Top):
		v.vp.GotoTop()
	case key.Matches(k, keys.Bottom):
		v.vp.GotoBottom()
	}
	return v, nil
}

// View implements tea.Model: the box alone; Over lays it over the panes.
func (v *Manual) View() string {
	st := v.c.Styles
	w := v.vp.Width
	title := st.TitleFocused.Render(cut("Manual: "+callName(&v.row.Call), w))
	foot := fmt.Sprintf("%3.0f%%", v.vp.ScrollPercent()*100)
	if keys := Hints(", ", Hint(v.c.Keys.Down, "scrolls"), Hint(v.c.Keys.Clear, "closes")); keys != "" {
		foot += "  " + keys
	}
	return st.Overlay.Render(lipgloss.JoinVertical(lipgloss.Left, title, v.vp.View(), st.Muted.Render(fit(foot, w))))
}

// Over lays the manual over screen, the panes it covers.
func (v *Manual) Over(screen string) string { return Overlay(screen, v.View(), v.width, v.height) }

// ShortHelp implements help.KeyMap.
func (v *Manual) ShortHelp() []key.Binding {
	k := v.c.Keys
	return []key.Binding{k.Up, k.Down, k.PageDown, k.Clear}
}

// FullHelp implements help.KeyMap.
func (v *Manual) FullHelp() [][]key.Binding {
	k := v.c.Keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}, {k.Clear, k.Manual}}
}
