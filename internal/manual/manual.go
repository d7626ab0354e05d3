package manual

import "strings"

// page is one man page as zmanual.go holds it.
type page struct {
	name, summary, synopsis, desc, ret string
	errors                             []errorEntry
}

// errorEntry is one entry of a page's ERRORS: its errno names (space
// separated: "EAGAIN EWOULDBLOCK") and what they mean for these calls.
type errorEntry struct{ codes, text string }

// Page is what the Linux man-pages say of a system call, in plain text
// (host text, not guest bytes; still filter it before a terminal shows it).
// Its paragraphs are unwrapped lines, separated by blank lines: the reader
// wraps them to its width. Synopsis keeps its lines, as C is laid out.
type Page struct {
	Name        string // the page's name: "open" for openat, shown as open(2)
	Summary     string // the NAME line's description
	Synopsis    string
	Description string // its first paragraphs
	Return      string // RETURN VALUE, its first paragraphs
	Errors      []Error
}

// Error is one entry of a page's ERRORS section.
type Error struct {
	Codes []string // e.g. ["EAGAIN", "EWOULDBLOCK"]
	Text  string
}

// Version names the man-pages release the texts are from.
func Version() string { return manVersion }

// Lookup is the page of the named call, e.g. "openat"; calls of either
// ABI, by nitro's names, including a few (new) calls with no page of their
// own (clock_gettime64 reads clock_gettime's).
func Lookup(call string) (Page, bool) {
	i, ok := calls[call]
	if !ok {
		return Page{}, false
	}
	p := &pages[i]
	out := Page{Name: p.name, Summary: p.summary, Synopsis: p.synopsis, Description: p.desc, Return: p.ret}
	for _, e := range p.errors {
		out.Errors = append(out.Errors, Error{Codes: strings.Fields(e.codes), Text: e.text})
	}
	return out, true
}

// Summary is the call's one-line description ("open and possibly create a
// file"), or "" for a call with no page.
func Summary(call string) string {
	if i, ok := calls[call]; ok {
		return pages[i].summary
	}
	return ""
}

// ErrorsFor are the page's ERRORS entries for errno, in the page's order.
func (p Page) ErrorsFor(errno string) []string {
	var out []string
	for _, e := range p.Errors {
		for _, c := range e.Codes {
			if c == errno {
				out = append(out, e.Text)
				break
			}
		}
	}
	return out
}

// Errno is the description of an errno by the name nitro gives it (the
// API's Syscall.Errno): glibc's strerror text, or strace's for the codes
// only the kernel uses ("ERESTARTSYS").
func Errno(name string) (string, bool) {
	t, ok := errnoTexts[name]
	return t, ok
}
