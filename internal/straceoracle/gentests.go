package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// test is one program of strace's test suite as gen_tests.in runs it.
type test struct {
	name string
	// skip, when set, is why the oracle leaves the program out: the strace
	// option or driver its test needs beyond the defaults.
	skip string
	// args are the program's arguments (QUIRK:PROG-ARGS).
	args string
	// trace selects the calls strace prints, from -e trace= (the test's
	// name when the test gives none, as run_strace_match_diff does).
	trace filter
	// start, when set, is the first line strace's log is compared from
	// (QUIRK:START-OF-TEST-OUTPUT), as a regular expression.
	start *regexp.Regexp
	// drop, dropThrough and uniq are the driver's edits of strace's log (driver).
	drop, dropThrough *regexp.Regexp
	uniq              bool
}

// filter is an -e trace= set: names, and /regex elements.
type filter struct {
	names map[string]bool
	res   []*regexp.Regexp
}

func (f filter) match(name string) bool {
	if f.names[name] {
		return true
	}
	for _, re := range f.res {
		if re.MatchString(name) {
			return true
		}
	}
	return false
}

// parseGenTests reads gen_tests.in: one test a line, its name, then either
// "+script args" (a driver script of its own), a shell function and its
// arguments, or the options run_strace_match_diff passes to strace.
func parseGenTests(r io.Reader) (map[string]test, error) {
	tests := map[string]test{}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		words, err := shellWords(line)
		if err != nil {
			return nil, fmt.Errorf("gen_tests.in:%d: %w", n, err)
		}
		tests[words[0]] = selectTest(words[0], words[1:])
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading gen_tests.in: %w", err)
	}
	return tests, nil
}

// selectTest decides whether the oracle can run a test whose gen_tests.in
// line has words after its name: run_strace_match_diff's tests, and those
// of the driver scripts below, whose options are the defaults, -a
// (alignment, which the comparison takes out) and -e trace=, with the
// quirks run_strace_match_diff knows.
func selectTest(name string, words []string) test {
	t := test{name: name}
	traced := ""
	if len(words) > 0 {
		switch w := words[0]; {
		case strings.HasPrefix(w, "+"):
			d, ok := drivers[w[1:]]
			if !ok {
				t.skip = "driver script " + w
				return t
			}
			traced, t.drop, t.dropThrough, t.uniq = d.trace, d.drop, d.dropThrough, d.uniq
			if traced == "" {
				traced = name
			}
			if d.creds && strings.HasSuffix(name, "-creds") {
				traced = "%creds"
			}
			words = words[1:]
		case strings.HasPrefix(w, "-einject=") || strings.HasPrefix(w, "--inject="):
			t.skip = "fault injection (-e inject=)"
			return t
		case !strings.HasPrefix(w, "-") && !strings.HasPrefix(w, "QUIRK:"):
			t.skip = "driver function " + w
			return t
		}
	}
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case strings.HasPrefix(w, "QUIRK:PROG-ARGS:"):
			t.args = strings.TrimPrefix(w, "QUIRK:PROG-ARGS:")
		case strings.HasPrefix(w, "QUIRK:START-OF-TEST-OUTPUT:"):
			t.start = regexp.MustCompile(regexp.QuoteMeta(strings.TrimPrefix(w, "QUIRK:START-OF-TEST-OUTPUT:")))
		case strings.HasPrefix(w, "QUIRK:START-OF-TEST-OUTPUT-REGEX:"):
			re, err := regexp.Compile(strings.TrimPrefix(w, "QUIRK:START-OF-TEST-OUTPUT-REGEX:"))
			if err != nil {
				t.skip = "start-of-output regex Go does not take"
				return t
			}
			t.start = re
		case alignOpt.MatchString(w):
		case w == "-a" && i+1 < len(words):
			i++
		case w == "-e" && i+1 < len(words) && strings.HasPrefix(words[i+1], "trace="):
			i++
			traced = strings.TrimPrefix(words[i], "trace=")
		case strings.HasPrefix(w, "-etrace=") || strings.HasPrefix(w, "--trace="):
			_, traced, _ = strings.Cut(w, "=")
		default:
			t.skip = "option " + optionName(w, words[i+1:])
			return t
		}
	}
	if traced == "" {
		traced = name
	}
	f, err := parseFilter(traced)
	if err != nil {
		t.skip = "option -e trace=" + err.Error()
		return t
	}
	t.trace = f
	return t
}

// driver is what a driver script of strace's tests does beyond
// run_strace_match_diff: the calls it traces, and the lines of strace's log
// it leaves out of the comparison.
type driver struct {
	trace       string         // -e trace=; "" for the test's name
	drop        *regexp.Regexp // lines left out (grep -v)
	dropThrough *regexp.Regexp // lines up to the first that matches, left out (sed 0,/re/d)
	uniq        bool           // repeated lines taken as one (uniq)
	creds       bool           // a NAME-creds test traces the class %creds
}

// drivers are the driver scripts the oracle runs as they do.
var drivers = map[string]driver{
	// ioctl.test: -eioctl, without the calls on the standard descriptors
	// that the C library makes.
	"ioctl.test": {trace: "ioctl", drop: regexp.MustCompile(`^ioctl\([012][,<]`)},
	// prctl.sh: -eprctl, from after the test's marker call on.
	"prctl.sh": {trace: "prctl", dropThrough: regexp.MustCompile(`^prctl\(0xffffffff( /\* PR_\?\?\? \*/)?, 0xfffffffe, 0xfffffffd, 0xfffffffc, 0xfffffffb\) += -1 `)},
	// getuid.test: -e NAME, or %creds for NAME-creds, repeats as one.
	"getuid.test": {uniq: true, creds: true},
}

// optionName names an option for the skip counts: -s for -s12, -e signal
// for -esignal=none or -e signal=none, --secontext for --secontext=full.
func optionName(w string, rest []string) string {
	switch {
	case w == "-e" && len(rest) > 0:
		w = "-e" + rest[0]
	case strings.HasPrefix(w, "--"):
		w, _, _ = strings.Cut(w, "=")
		return w
	case !strings.HasPrefix(w, "-"):
		return "argument " + w
	}
	if strings.HasPrefix(w, "-e") && len(w) > 2 {
		name, _, _ := strings.Cut(w[2:], "=")
		return "-e " + name
	}
	if len(w) > 2 {
		return w[:2]
	}
	return w
}

// parseFilter reads an -e trace= value: names and /regex elements; a class
// (%file), a negation (!) or a name strace would not know (?) is refused.
func parseFilter(s string) (filter, error) {
	f := filter{names: map[string]bool{}}
	for el := range strings.SplitSeq(s, ",") {
		switch {
		case strings.HasPrefix(el, "%"):
			return f, fmt.Errorf("%%class")
		case strings.HasPrefix(el, "!"):
			return f, fmt.Errorf("!negation")
		case strings.HasPrefix(el, "/"):
			re, err := regexp.Compile(el[1:])
			if err != nil {
				return f, fmt.Errorf("/regex")
			}
			f.res = append(f.res, re)
		default:
			f.names[strings.TrimPrefix(el, "?")] = true
		}
	}
	return f, nil
}

// shellWords splits gen_tests.in's argument text as the generated sh
// script would: on blanks, with single and double quotes (and backslash
// escapes within the latter and outside quotes) taken out.
func shellWords(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	in, quote := false, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				w.WriteByte(c)
			}
		case quote == '"':
			switch {
			case c == '"':
				quote = 0
			case c == '\\' && i+1 < len(s) && strings.IndexByte(`"\$`+"`", s[i+1]) >= 0:
				i++
				w.WriteByte(s[i])
			default:
				w.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == '\\' && i+1 < len(s):
			i++
			w.WriteByte(s[i])
			in = true
		case c == ' ' || c == '\t':
			if in {
				words = append(words, w.String())
				w.Reset()
				in = false
			}
		default:
			w.WriteByte(c)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote in %q", quote, s)
	}
	if in {
		words = append(words, w.String())
	}
	return words, nil
}

// alignOpt is -aN, the column strace aligns returns at.
var alignOpt = regexp.MustCompile(`^-a\d+$`)
