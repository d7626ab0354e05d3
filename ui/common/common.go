package common

import (
	"context"

	"github.com/charmbracelet/bubbles/help"
	tea "github.com/charmbracelet/bubbletea"
)

// Component is every view: a Bubble Tea model that sizes itself and tells
// the help bar its keys.
type Component interface {
	tea.Model
	help.KeyMap
	SetSize(width, height int)
}

// Common is shared by pointer between the root and its views.
type Common struct {
	Ctx    context.Context // I/O started by a view's tea.Cmd stops with it
	Width  int
	Height int
	Styles *Styles
	Keys   *KeyMap
}

// SetSize records the terminal's size.
func (c *Common) SetSize(width, height int) {
	c.Width, c.Height = width, height
}
