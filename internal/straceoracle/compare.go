package main

import (
	"regexp"
	"strconv"
	"strings"
)

// run is one program's run in the guest, as its console markers said.
type run struct {
	name   string
	pid    int
	status int
	out    []string // its standard output, line by line
	err    []string // its standard error
}

var (
	runLine = regexp.MustCompile(`^nitro-strace-tests: run (\S+) pid (\d+) status (\d+)$`)
	// The markers after a program's output end a line of their own, or
	// its last line when the output does not end with a newline.
	stderrLine = regexp.MustCompile(`nitro-strace-tests: stderr \S+$`)
	doneLine   = regexp.MustCompile(`nitro-strace-tests: done \S+$`)
)

// runParser reads the runs from the console text, fed as it grows.
type runParser struct {
	runs  []run
	cur   *run
	inErr bool
	lines lineSplitter
}

// feed takes more console text; the runs whose done marker it holds are
// complete in p.runs.
func (p *runParser) feed(text string) {
	for _, l := range p.lines.complete(text) {
		p.line(strings.TrimSuffix(l, "\r")) // the guest's tty ends lines with \r\n
	}
}

func (p *runParser) line(l string) {
	if m := runLine.FindStringSubmatch(l); m != nil {
		pid, _ := strconv.Atoi(m[2])
		status, _ := strconv.Atoi(m[3])
		p.cur = &run{name: m[1], pid: pid, status: status}
		p.inErr = false
		return
	}
	if p.cur == nil {
		return // the kernel's, or a run's whose start came before
	}
	marker := doneLine.FindStringIndex(l)
	if marker == nil {
		marker = stderrLine.FindStringIndex(l)
	}
	text := l
	if marker != nil {
		text = l[:marker[0]]
	}
	if marker == nil || text != "" {
		if p.inErr {
			p.cur.err = append(p.cur.err, text)
		} else {
			p.cur.out = append(p.cur.out, text)
		}
	}
	switch {
	case marker == nil:
	case doneLine.MatchString(l):
		p.runs = append(p.runs, *p.cur)
		p.cur = nil
	default:
		p.inErr = true
	}
}

// textLine is a line of `nitro trace --format text`: [pid comm] or
// [pid/tid comm], then the call.
var textLine = regexp.MustCompile(`^\[(\d+)(/\d+)? [^\]]*\] (.*)$`)

// callParser gathers the calls of each process's main thread from nitro's
// text, fed as it grows, each whole: a call split in two (<unfinished
// ...>, then <... resumed>) is joined, as strace prints it when nothing
// comes between. Other threads are left out, as strace without -f leaves
// them.
type callParser struct {
	calls   map[int][]string
	pending map[int]string
	lines   lineSplitter
}

func (p *callParser) feed(text string) {
	if p.calls == nil {
		p.calls, p.pending = map[int][]string{}, map[int]string{}
	}
	for _, l := range p.lines.complete(text) {
		m := textLine.FindStringSubmatch(l)
		if m == nil || m[2] != "" {
			continue
		}
		pid, _ := strconv.Atoi(m[1])
		call := m[3]
		if head, ok := strings.CutSuffix(call, " <unfinished ...>"); ok {
			p.pending[pid] = head
			continue
		}
		if rest, ok := strings.CutPrefix(call, "<... "); ok {
			if _, after, ok := strings.Cut(rest, " resumed>"); ok {
				call = p.pending[pid] + after
				delete(p.pending, pid)
			}
		}
		p.calls[pid] = append(p.calls[pid], call)
	}
}

// padding is what -a adds before " = ": the comparison takes it out.
var padding = regexp.MustCompile(`\) +=( |$)`)

func unpad(s string) string { return padding.ReplaceAllString(s, ") =$1") }

// expected is what a program printed as strace's lines, less what nitro
// does not print: the exit line and signal deliveries. signals counts the
// latter.
func expected(r run) (lines []string, signals int) {
	for _, l := range r.out {
		switch {
		case strings.HasPrefix(l, "+++ "):
		case strings.HasPrefix(l, "--- "):
			signals++
		default:
			lines = append(lines, unpad(l))
		}
	}
	return lines, signals
}

// nitroLines is what strace's log would hold for t, made from nitro's
// calls of the program's process: those after its execve of the program,
// in t's trace set, edited as t's driver edits strace's log. It is false
// when nitro did not see that execve: then nothing can be compared.
func nitroLines(t test, calls []string) ([]string, bool) {
	execed := regexp.MustCompile(`^execve\("/strace-tests/` + regexp.QuoteMeta(t.name) + `", .* = 0$`)
	from := -1
	for i, c := range calls {
		if execed.MatchString(c) {
			from = i + 1
		}
	}
	if from < 0 {
		return nil, false
	}
	var lines []string
	for _, c := range calls[from:] {
		name, _, _ := strings.Cut(c, "(")
		if t.trace.match(name) {
			lines = append(lines, unpad(c))
		}
	}
	if t.dropThrough != nil {
		for i, l := range lines {
			if t.dropThrough.MatchString(l) {
				lines = lines[i+1:]
				break
			}
		}
	}
	if t.drop != nil {
		kept := lines[:0]
		for _, l := range lines {
			if !t.drop.MatchString(l) {
				kept = append(kept, l)
			}
		}
		lines = kept
	}
	if t.start != nil {
		i := 0
		for i < len(lines) && !t.start.MatchString(lines[i]) {
			i++
		}
		lines = lines[i:]
	}
	if t.uniq {
		kept := lines[:0]
		for i, l := range lines {
			if i == 0 || l != lines[i-1] {
				kept = append(kept, l)
			}
		}
		lines = kept
	}
	return lines, true
}

// difference is where nitro's lines first part from the program's.
type difference struct {
	line          int    // 1-based, in the program's lines
	want, got     string // "" past the end of either
	wantN, gotN   int
	wantOK, gotOK bool // whether want or got has a line there
}

// compare returns the first difference between want and got, or nil.
func compare(want, got []string) *difference {
	for i := 0; i < max(len(want), len(got)); i++ {
		d := difference{line: i + 1, wantN: len(want), gotN: len(got), wantOK: i < len(want), gotOK: i < len(got)}
		if d.wantOK {
			d.want = want[i]
		}
		if d.gotOK {
			d.got = got[i]
		}
		if !d.wantOK || !d.gotOK || d.want != d.got {
			return &d
		}
	}
	return nil
}

// cause names a difference for the summary's grouping: what kind of text
// the first argument (or the return) that differs holds on either side.
func (d *difference) cause() string {
	switch {
	case !d.gotOK:
		return "nitro shows no " + callName(d.want) + " line where the program prints one"
	case !d.wantOK:
		return "nitro shows a " + callName(d.got) + " line the program does not print"
	case callName(d.want) != callName(d.got):
		return "nitro shows " + callName(d.got) + " where the program prints " + callName(d.want)
	}
	want, wantRet := splitCall(d.want)
	got, gotRet := splitCall(d.got)
	for i := range min(len(want), len(got)) {
		if want[i] != got[i] {
			return argCause(want[i], got[i])
		}
	}
	if len(want) != len(got) {
		return "a different number of arguments"
	}
	if wantRet != gotRet {
		return "the return shown otherwise"
	}
	return "text differs"
}

var (
	number  = regexp.MustCompile(`^-?(0x[0-9a-f]+|[0-9]+)$`)
	named   = regexp.MustCompile(`[A-Z][A-Z0-9_]{2,}`)
	octEsc  = regexp.MustCompile(`\\[0-7]`)
	hexEsc  = regexp.MustCompile(`\\x[0-9a-f]{2}`)
	pointer = regexp.MustCompile(`^0x[0-9a-f]+$`)
)

// argCause classes an argument strace (want) and nitro (got) show otherwise.
func argCause(want, got string) string {
	switch {
	case pointer.MatchString(got) && (strings.HasPrefix(want, "{") || strings.HasPrefix(want, "[") || strings.HasPrefix(want, "\"")):
		return "a structure, array or string nitro shows as a pointer"
	case number.MatchString(got) && named.MatchString(want):
		return "a constant or flags strace names, nitro shows as a number"
	case number.MatchString(got) && number.MatchString(want):
		return "a number in another base or width"
	case octEsc.MatchString(want) && hexEsc.MatchString(got):
		return "bytes strace escapes in octal, nitro in hex"
	case pointer.MatchString(want) && !pointer.MatchString(got):
		return "a pointer strace does not follow, nitro decodes"
	}
	return "an argument shown otherwise"
}

// splitCall splits a call's line into its arguments (at the commas
// outside brackets and strings) and what follows them (" = ...").
func splitCall(line string) (args []string, ret string) {
	_, rest, _ := strings.Cut(line, "(")
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		switch {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '(' || c == '{' || c == '[':
			depth++
		case c == ']' || c == '}':
			depth--
		case c == ')' && depth == 0:
			if s := strings.TrimSpace(rest[start:i]); s != "" {
				args = append(args, s)
			}
			return args, rest[i+1:]
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			args = append(args, strings.TrimSpace(rest[start:i]))
			start = i + 1
		}
	}
	return args, ""
}

func callName(line string) string {
	name, _, _ := strings.Cut(line, "(")
	return name
}

// lineSplitter holds what a stream has sent of a line not yet ended.
type lineSplitter struct{ partial string }

// complete returns the lines that text ends, the first with what came
// before it, and keeps the rest for the next call.
func (s *lineSplitter) complete(text string) []string {
	text = s.partial + text
	last := strings.LastIndexByte(text, '\n')
	s.partial = text[last+1:]
	if last < 0 {
		return nil
	}
	return strings.Split(text[:last], "\n")
}
