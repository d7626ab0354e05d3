package common

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/lipgloss"

	"nitro/themes"
)

// Styles are the lipgloss styles of every view, all derived from one palette.
type Styles struct {
	Text         lipgloss.Style
	Muted        lipgloss.Style
	Title        lipgloss.Style // a pane's title
	TitleFocused lipgloss.Style
	Header       lipgloss.Style // column headers
	Selected     lipgloss.Style
	Failed       lipgloss.Style // a call that returned an error
	Unfinished   lipgloss.Style // a call whose exit has not arrived
	Error        lipgloss.Style
	Warn         lipgloss.Style
	Bar          lipgloss.Style
	BarOK        lipgloss.Style
	BarWarn      lipgloss.Style
	Overlay      lipgloss.Style // a box drawn over the panes (help)
	Help         help.Styles
}

// NewStyles derives the styles from p. Emphasis that must survive a palette
// without colour (selection, focus, failures) also uses reverse, bold or
// underline.
func NewStyles(p themes.Palette) *Styles { return NewStylesFor(lipgloss.DefaultRenderer(), p) }

// NewStylesFor derives the styles from p for r's terminal: a screen served
// to another terminal (nitro serve) has its own colour profile.
func NewStylesFor(r *lipgloss.Renderer, p themes.Palette) *Styles {
	base := r.NewStyle()
	s := &Styles{
		Text:         base.Foreground(p.Text),
		Muted:        base.Foreground(p.Muted),
		Title:        base.Foreground(p.Muted).Bold(true),
		TitleFocused: base.Foreground(p.Accent).Bold(true).Underline(true),
		Header:       base.Foreground(p.Muted).Bold(true),
		Selected:     base.Foreground(p.SelectedFg).Background(p.SelectedBg),
		Failed:       base.Foreground(p.Error),
		Unfinished:   base.Foreground(p.Warn),
		Error:        base.Foreground(p.Error).Bold(true),
		Warn:         base.Foreground(p.Warn).Bold(true),
		Bar:          base.Foreground(p.BarFg).Background(p.BarBg),
		BarOK:        base.Foreground(p.OK).Background(p.BarBg).Bold(true),
		BarWarn:      base.Foreground(p.Warn).Background(p.BarBg).Bold(true),
		Overlay:      base.Border(lipgloss.RoundedBorder()).BorderForeground(p.Accent).Padding(0, 1),
	}
	if p.Colorless() {
		s.Selected = s.Selected.Reverse(true)
		s.Failed = s.Failed.Bold(true)
	}
	key := base.Foreground(p.Accent)
	desc := base.Foreground(p.Muted)
	sep := base.Foreground(p.Muted)
	s.Help = help.Styles{
		Ellipsis:       sep,
		ShortKey:       key,
		ShortDesc:      desc,
		ShortSeparator: sep,
		FullKey:        key,
		FullDesc:       desc,
		FullSeparator:  sep,
	}
	return s
}
