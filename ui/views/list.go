package views

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"nitro/ui/common"
)

// list is the cursor of a pane that lists rows a screenful at a time: the
// selected row and the first row drawn.
type list struct {
	cursor, top int
}

// move applies the movement keys to the cursor over n rows, shown of them
// on screen; it says whether k was one of them.
func (l *list) move(keys *common.KeyMap, k tea.KeyMsg, n, shown int) bool {
	switch {
	case key.Matches(k, keys.Up):
		l.cursor--
	case key.Matches(k, keys.Down):
		l.cursor++
	case key.Matches(k, keys.PageUp):
		l.cursor -= shown
	case key.Matches(k, keys.PageDown):
		l.cursor += shown
	case key.Matches(k, keys.Top):
		l.cursor = 0
	case key.Matches(k, keys.Bottom):
		l.cursor = n - 1
	default:
		return false
	}
	l.scroll(n, shown)
	return true
}

// scroll keeps the cursor on one of n rows and on screen, and the screen
// full where there are rows enough.
func (l *list) scroll(n, shown int) {
	l.cursor = max(0, min(l.cursor, n-1))
	switch {
	case l.cursor < l.top:
		l.top = l.cursor
	case l.cursor >= l.top+shown:
		l.top = l.cursor - shown + 1
	}
	l.top = max(0, min(l.top, n-shown))
}
