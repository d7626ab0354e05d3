package themes

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// ErrUnknown is returned for a theme name that is not in the list.
var ErrUnknown = errors.New("unknown theme")

// Palette is the handful of colours every style is derived from. A palette
// with no colour (lipgloss.NoColor) leaves emphasis to bold and reverse video.
type Palette struct {
	Name       string
	Text       lipgloss.TerminalColor // ordinary text
	Muted      lipgloss.TerminalColor // secondary text: times, counts, help
	Accent     lipgloss.TerminalColor // titles of the focused pane, keys in help
	SelectedFg lipgloss.TerminalColor // the selected row
	SelectedBg lipgloss.TerminalColor
	BarFg      lipgloss.TerminalColor // the status bar
	BarBg      lipgloss.TerminalColor
	Error      lipgloss.TerminalColor // failed calls, errors
	Warn       lipgloss.TerminalColor // unfinished calls, held syscall, paused VM
	OK         lipgloss.TerminalColor // running VM
}

// Colorless says whether the palette has no colour at all.
func (p Palette) Colorless() bool {
	_, none := p.Text.(lipgloss.NoColor)
	return none
}

var palettes = map[string]Palette{
	"dark": {
		Name:       "dark",
		Text:       lipgloss.Color("252"),
		Muted:      lipgloss.Color("245"),
		Accent:     lipgloss.Color("75"),
		SelectedFg: lipgloss.Color("231"),
		SelectedBg: lipgloss.Color("24"),
		BarFg:      lipgloss.Color("252"),
		BarBg:      lipgloss.Color("236"),
		Error:      lipgloss.Color("203"),
		Warn:       lipgloss.Color("214"),
		OK:         lipgloss.Color("114"),
	},
	"light": {
		Name:       "light",
		Text:       lipgloss.Color("235"),
		Muted:      lipgloss.Color("242"),
		Accent:     lipgloss.Color("25"),
		SelectedFg: lipgloss.Color("16"),
		SelectedBg: lipgloss.Color("153"),
		BarFg:      lipgloss.Color("235"),
		BarBg:      lipgloss.Color("254"),
		Error:      lipgloss.Color("160"),
		Warn:       lipgloss.Color("130"),
		OK:         lipgloss.Color("28"),
	},
	"none": {
		Name:       "none",
		Text:       lipgloss.NoColor{},
		Muted:      lipgloss.NoColor{},
		Accent:     lipgloss.NoColor{},
		SelectedFg: lipgloss.NoColor{},
		SelectedBg: lipgloss.NoColor{},
		BarFg:      lipgloss.NoColor{},
		BarBg:      lipgloss.NoColor{},
		Error:      lipgloss.NoColor{},
		Warn:       lipgloss.NoColor{},
		OK:         lipgloss.NoColor{},
	},
}

// Names lists the themes, sorted.
func Names() []string {
	names := make([]string, 0, len(palettes))
	for n := range palettes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the palette called name.
func Lookup(name string) (Palette, error) {
	p, ok := palettes[name]
	if !ok {
		return Palette{}, fmt.Errorf("%w %q (have %s)", ErrUnknown, name, strings.Join(Names(), ", "))
	}
	return p, nil
}

// Select picks the palette for a --theme value: an explicit name wins;
// with none given, NO_COLOR (set and not empty, per no-color.org) picks
// "none", else "dark". getenv is os.Getenv outside tests.
func Select(name string, getenv func(string) string) (Palette, error) {
	if name == "" {
		name = "dark"
		if getenv("NO_COLOR") != "" {
			name = "none"
		}
	}
	return Lookup(name)
}
