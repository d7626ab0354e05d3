package views

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// Overlay lays box over the middle of screen, a frame of width x height
// cells, leaving the screen visible around it. lipgloss v1 cannot compose
// one block over another, so each covered line is spliced by cells, keeping
// the styles of what shows on either side of the box.
func Overlay(screen, box string, width, height int) string {
	lines := strings.Split(screen, "\n")
	boxLines := strings.Split(box, "\n")
	boxLines = boxLines[:min(len(boxLines), max(height, 0))]
	bw := 0
	for _, l := range boxLines {
		bw = max(bw, ansi.StringWidth(l))
	}
	bw = min(bw, max(width, 0))
	x, y := max((width-bw)/2, 0), max((height-len(boxLines))/2, 0)
	for len(lines) < y+len(boxLines) {
		lines = append(lines, "")
	}
	for i, b := range boxLines {
		lines[y+i] = splice(lines[y+i], ansi.Truncate(b, bw, ""), x, bw)
	}
	return strings.Join(lines, "\n")
}

// splice puts box, w cells wide, over line from cell x on.
func splice(line, box string, x, w int) string {
	left := ansi.Truncate(line, x, "")
	// A short line, or a wide character cut at x, leaves the left part short.
	left += strings.Repeat(" ", max(x-ansi.StringWidth(left), 0))
	box += strings.Repeat(" ", max(w-ansi.StringWidth(box), 0))
	rest := ansi.StringWidth(line) - x - w
	if rest <= 0 {
		return left + box
	}
	right := ansi.TruncateLeft(line, x+w, "")
	if ansi.StringWidth(right) > rest { // a wide character straddles the box's right edge
		right = " " + ansi.TruncateLeft(line, x+w+1, "")
	}
	return left + box + right
}
