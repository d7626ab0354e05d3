package views

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/charmbracelet/x/ansi"

	"nitro/core/backend"
	"nitro/internal/escape"
	"nitro/ui/calls"
)

// timeLayout is the time column: enough to tell calls a millisecond apart.
const timeLayout = "15:04:05.000"

// commWidth fits Linux's 15-byte comm; escaped bytes beyond it are cut.
const commWidth = 16

// callText is the strace-style text of a row, in two parts so a narrow
// screen cuts the arguments and keeps the outcome: head is name(args) (or
// the resumed form of an orphan exit), tail is " = ret" or the unfinished mark.
func callText(r *calls.Row) (head, tail string) {
	c := &r.Call
	name := callName(c)
	if r.Orphan {
		head = "<... " + name + " resumed>"
	} else {
		var b strings.Builder
		b.WriteString(name)
		b.WriteByte('(')
		for i, a := range c.Args {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(a.Text)
		}
		b.WriteByte(')')
		head = b.String()
	}
	if !r.Done {
		return head, " <unfinished ...>"
	}
	return head, " = " + retText(c)
}

// callName is the call's name, after its ABI when that is not x86-64's:
// i386 numbers and arguments mean other things.
func callName(c *backend.Syscall) string {
	if c.ABI != backend.X8664 {
		return c.ABI.String() + ":" + escape.String(c.Name)
	}
	return escape.String(c.Name)
}

// retText is a return value as strace shows it: -1 and the errno for a
// failure, hex for what looks like an address.
func retText(c *backend.Syscall) string {
	switch {
	case c.Errno != "":
		return "-1 " + c.Errno
	case c.Ret > 0xffffffff:
		return "0x" + strconv.FormatInt(c.Ret, 16)
	}
	return strconv.FormatInt(c.Ret, 10)
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
	if room := width - len(cols) - len(tail); room > 1 && ansi.StringWidth(head) > room {
		head = ansi.Truncate(head, room, "…")
	}
	return fit(cols+head+tail, width)
}

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
