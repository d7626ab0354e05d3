package views

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/charmbracelet/x/ansi"

	"nitro/api"
	"nitro/internal/escape"
	"nitro/ui/calls"
)

// timeLayout is the time column: enough to tell calls a millisecond apart.
const timeLayout = "15:04:05.000"

// commWidth fits Linux's 15-byte comm; escaped bytes beyond it are cut.
const commWidth = 16

// callText is the row's call as every face renders it (api.AppendCall), in
// two parts so a narrow screen cuts the arguments and keeps the outcome:
// head is name(args) or the resumed mark, tail " = ret" or the unfinished mark.
func callText(r *calls.Row) (head, tail string) {
	c := &r.Call
	f := api.Whole
	switch {
	case r.Orphan:
		f = api.Resumed
	case !r.Done && !c.NoReturn():
		f = api.Unfinished
	}
	return string(api.AppendHead(nil, c, f)), string(api.AppendTail(nil, c, f))
}

// callName is the call's name, after its ABI when that is not x86-64's:
// i386 numbers and arguments mean other things.
func callName(c *api.Syscall) string {
	if c.ABI != api.X8664 {
		return c.ABI.String() + ":" + escape.String(c.Name)
	}
	return escape.String(c.Name)
}

// Plain makes host-side text (libvirt names, error messages, typed input)
// safe for the terminal without the quoting escape uses for guest bytes:
// control characters become '?'.
func Plain(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
}

// rowText is one line of the syscall pane, cut to width.
func rowText(r *calls.Row, width int) string {
	c := &r.Call
	at := c.Time
	if r.Orphan {
		at = r.ExitTime
	}
	cols := fmt.Sprintf("%s %3d %6d %-*s ", at.Format(timeLayout), c.VCPU, c.Process.PID,
		commWidth, cut(escape.String(c.Process.Comm), commWidth))
	head, tail := callText(r)
	if avail := width - len(cols); ansi.StringWidth(head)+len(tail) > avail {
		// Cut the arguments first; a long outcome (an errno's description)
		// gives way only down to minHead cells of the call.
		keep := min(ansi.StringWidth(head), minHead)
		if len(tail) > avail-keep {
			tail = ansi.Truncate(tail, max(avail-keep, 0), "…")
		}
		head = ansi.Truncate(head, max(avail-ansi.StringWidth(tail), 0), "…")
	}
	return fit(cols+head+tail, width)
}

// minHead is how much of a call's name and arguments a row keeps before its
// outcome is cut.
const minHead = 16

// rowHeader names rowText's columns.
func rowHeader(width int) string {
	return fit(fmt.Sprintf("%-12s %3s %6s %-*s %s", "TIME", "CPU", "PID", commWidth, "COMM", "CALL"), width)
}

// cut shortens plain text to at most n cells.
func cut(s string, n int) string { return ansi.Truncate(s, n, "") }

// fit cuts s to width cells, marking the cut, and pads it to width so a
// styled background spans the line.
func fit(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if w := ansi.StringWidth(s); w <= width {
		return s + strings.Repeat(" ", width-w)
	}
	return ansi.Truncate(s, width, "…")
}
