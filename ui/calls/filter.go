package calls

import (
	"strconv"
	"strings"

	"nitro/internal/escape"
)

// Filter keeps the rows that match all of its parts; the zero Filter keeps
// everything.
type Filter struct {
	Names []string // syscall names, any of them
	PID   int      // a process (thread group); 0 for any
	Comm  string   // a substring of the escaped comm
	Text  []string // substrings that must each appear in the call's name, comm, arguments or errno
}

// Parse reads the filter bar's language: words separated by spaces, each
// "name:N" (or "sys:N"; several are ORed), "pid:N", "comm:S", or any other
// text to find in the line. It reports the first malformed word.
func Parse(q string) (Filter, error) {
	var f Filter
	for _, w := range strings.Fields(q) {
		key, val, ok := strings.Cut(w, ":")
		switch {
		case ok && (key == "name" || key == "sys"):
			f.Names = append(f.Names, val)
		case ok && key == "pid":
			pid, err := strconv.Atoi(val)
			if err != nil || pid <= 0 {
				return Filter{}, &BadWordError{Word: w}
			}
			f.PID = pid
		case ok && key == "comm":
			f.Comm = val
		default:
			f.Text = append(f.Text, w)
		}
	}
	return f, nil
}

// BadWordError is a filter word that cannot be read.
type BadWordError struct{ Word string }

func (e *BadWordError) Error() string { return "bad filter word " + strconv.Quote(e.Word) }

// Empty says whether the filter keeps every row.
func (f Filter) Empty() bool {
	return len(f.Names) == 0 && f.PID == 0 && f.Comm == "" && len(f.Text) == 0
}

// Match says whether the filter keeps r.
func (f Filter) Match(r *Row) bool {
	c := &r.Call
	if f.PID != 0 && c.Process.PID != f.PID {
		return false
	}
	if len(f.Names) > 0 && !contains(f.Names, c.Name) {
		return false
	}
	comm := escape.String(c.Process.Comm)
	if f.Comm != "" && !strings.Contains(comm, f.Comm) {
		return false
	}
	for _, t := range f.Text {
		if !textIn(t, c.Name, comm, c.Errno) && !argsContain(r, t) {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func textIn(t string, fields ...string) bool {
	for _, f := range fields {
		if strings.Contains(f, t) {
			return true
		}
	}
	return false
}

func argsContain(r *Row, t string) bool {
	for _, a := range r.Call.Args {
		if strings.Contains(a.Text, t) {
			return true
		}
	}
	return false
}

// WithPID returns the filter narrowed to one process (0: any).
func (f Filter) WithPID(pid int) Filter {
	f.PID = pid
	return f
}
