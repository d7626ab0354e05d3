package views

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"nitro/ui/common"
)

// PromptMsg is the text the user entered in the prompt, for the purpose the
// prompt was opened with.
type PromptMsg struct {
	For   any
	Value string
}

// Prompt is the one-line input at the bottom (filter, edit). While open it
// takes every key; enter submits, the clear key cancels. It edits at the end
// of the line only (typing, backspace, ctrl+u, ctrl+w): bubbles/textinput
// would pull a clipboard module into the build for no gain here.
type Prompt struct {
	c     *common.Common
	width int
	label string
	value []rune
	open  bool
	for_  any
}

// NewPrompt is a closed prompt.
func NewPrompt(c *common.Common) *Prompt { return &Prompt{c: c} }

// Open shows the prompt with a label and a starting value; what it is for
// comes back in the PromptMsg.
func (p *Prompt) Open(label, value string, purpose any) {
	p.open, p.for_, p.label, p.value = true, purpose, label, []rune(value)
}

// Opened says whether the prompt is taking keys.
func (p *Prompt) Opened() bool { return p.open }

// SetSize implements common.Component; the prompt is one line.
func (p *Prompt) SetSize(width, _ int) { p.width = width }

// Init implements tea.Model.
func (p *Prompt) Init() tea.Cmd { return nil }

// Update implements tea.Model.
func (p *Prompt) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return p, nil
	}
	switch {
	case k.Type == tea.KeyEnter:
		p.open = false
		done := PromptMsg{For: p.for_, Value: string(p.value)}
		return p, func() tea.Msg { return done }
	case key.Matches(k, p.c.Keys.Clear):
		p.open = false
	case k.Type == tea.KeyBackspace:
		if len(p.value) > 0 {
			p.value = p.value[:len(p.value)-1]
		}
	case k.Type == tea.KeyCtrlU:
		p.value = p.value[:0]
	case k.Type == tea.KeyCtrlW:
		v := strings.TrimRight(string(p.value), " ")
		p.value = []rune(v[:strings.LastIndex(v, " ")+1])
	case k.Type == tea.KeyRunes || k.Type == tea.KeySpace:
		p.value = append(p.value, []rune(Plain(string(k.Runes)))...)
	}
	return p, nil
}

// View implements tea.Model: the label, the value's tail that fits, a cursor.
func (p *Prompt) View() string {
	st := p.c.Styles
	room := max(p.width-len(p.label)-1, 1)
	v := p.value
	if len(v) > room {
		v = v[len(v)-room:]
	}
	return st.Warn.Render(p.label) + st.Text.Render(string(v)) + st.Selected.Render(" ")
}

// ShortHelp implements help.KeyMap.
func (p *Prompt) ShortHelp() []key.Binding {
	return []key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply")), p.c.Keys.Clear}
}

// FullHelp implements help.KeyMap.
func (p *Prompt) FullHelp() [][]key.Binding { return [][]key.Binding{p.ShortHelp()} }
