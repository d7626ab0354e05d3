package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

var (
	tables    = flag.String("tables", "../../core/backend/linux/strace", "directory of nitro's system call tables (syscalls_*.txt) and errno names (errno.go)")
	manDir    = flag.String("man", "/usr/share/man/man2", "section 2 of the Linux man-pages")
	copyright = flag.String("copyright", "/usr/share/doc/manpages-dev/copyright", "the Debian copyright file of manpages-dev: its licence texts")
	out       = flag.String("o", "zmanual.go", "the Go file written")
	licOut    = flag.String("license", "LICENSE.man-pages", "the licence note written")
)

// Budgets, which keep the table to a few hundred KB: the TUI shows the
// start of a page, not the page (man shows the rest).
const (
	descBudget = 400 // characters of DESCRIPTION, in whole paragraphs (at least one)
	retBudget  = 400 // characters of RETURN VALUE, the same way
	errBudget  = 160 // characters of an ERRORS entry, in whole sentences
	width      = "2000"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("manual/gen: ")
	flag.Parse()
	if _, err := exec.LookPath("man"); err != nil {
		log.Fatal("no man command: apt-get install man-db manpages-dev")
	}
	names, err := callNames(*tables)
	if err != nil {
		log.Fatal(err)
	}
	errnos, err := errnoTexts(filepath.Join(*tables, "errno.go"))
	if err != nil {
		log.Fatal(err)
	}
	var (
		pages   []*page
		byFile  = map[string]*page{}
		calls   []call
		missing []string
	)
	for _, n := range names {
		file, err := pageFile(n)
		if errors.Is(err, os.ErrNotExist) {
			missing = append(missing, n)
			continue
		} else if err != nil {
			log.Fatal(err)
		}
		p := byFile[file]
		if p == nil {
			if p, err = readPage(file); err != nil {
				log.Fatalf("%s: %v", file, err)
			}
			p.index = len(pages)
			pages, byFile[file] = append(pages, p), p
		}
		calls = append(calls, call{n, p})
	}
	if len(calls) == 0 {
		log.Fatalf("no page for any call in %s: apt-get install manpages-dev", *manDir)
	}
	version, err := manVersion(pages[0].file)
	if err != nil {
		log.Fatal(err)
	}
	src, err := goFile(version, pages, calls, missing, errnos)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
	lic, err := licenseFile(version, pages)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*licOut, lic, 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("%d calls from %d pages, %d calls without a page: %s", len(calls), len(pages), len(missing), strings.Join(missing, " "))
}

type call struct {
	name string
	page *page
}

// page is one man page, cut into what the TUI shows.
type page struct {
	index    int
	file     string // the page's source, after links and .so
	name     string // e.g. "open" for open.2
	summary  string // the NAME line after " - "
	synopsis string
	desc     string
	ret      string
	errs     []errEntry
	notice   string // the source's copyright and licence lines
	license  string // SPDX identifier, or the source's own licence marker
}

type errEntry struct {
	codes []string
	text  string
}

// callNames are the names of nitro's system call tables, both ABIs,
// sorted and without repeats.
func callNames(dir string) ([]string, error) {
	var names []string
	for _, f := range []string{"syscalls_x86_64.txt", "syscalls_i386.txt"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return nil, err
		}
		for line := range strings.Lines(string(b)) {
			if fs := strings.Fields(line); len(fs) >= 2 && !strings.HasPrefix(fs[0], "#") {
				names = append(names, fs[1])
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// errnoTexts reads the back end's errno table (names as strace and the API
// spell them, glibc's texts), so the TUI explains an errno in the words of
// the call's own text: "name text" pairs, in the table's order.
func errnoTexts(file string) ([][2]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		return nil, err
	}
	var pairs [][2]string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.VAR {
			continue
		}
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			if len(v.Values) != 1 || (v.Names[0].Name != "errnos" && v.Names[0].Name != "restartErrnos") {
				continue
			}
			lit, ok := v.Values[0].(*ast.CompositeLit)
			if !ok {
				return nil, fmt.Errorf("%s: %s is not a table", file, v.Names[0].Name)
			}
			for _, e := range lit.Elts {
				kv, ok := e.(*ast.KeyValueExpr)
				if !ok {
					return nil, fmt.Errorf("%s: an entry of %s has no errno", file, v.Names[0].Name)
				}
				pair, err := stringPair(kv.Value)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", file, err)
				}
				pairs = append(pairs, pair)
			}
		}
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("%s: no errno table", file)
	}
	return pairs, nil
}

func stringPair(e ast.Expr) ([2]string, error) {
	lit, ok := e.(*ast.CompositeLit)
	if !ok || len(lit.Elts) != 2 {
		return [2]string{}, errors.New("an errno entry is not {name, text}")
	}
	var pair [2]string
	for i, el := range lit.Elts {
		b, ok := el.(*ast.BasicLit)
		if !ok || b.Kind != token.STRING {
			return [2]string{}, errors.New("an errno entry is not two strings")
		}
		s, err := strconv.Unquote(b.Value)
		if err != nil {
			return [2]string{}, err
		}
		pair[i] = s
	}
	return pair, nil
}

// pageFile is the source of the page that documents call n: its own, or
// for a variant without one the base call's (clock_gettime64 is
// clock_gettime with 64-bit time, fchmodat2 is fchmodat with flags).
func pageFile(n string) (string, error) {
	tries := []string{n}
	if base, ok := strings.CutSuffix(n, "_time64"); ok {
		tries = append(tries, base)
	} else if base, ok := strings.CutSuffix(n, "64"); ok {
		tries = append(tries, base)
	}
	if base, ok := strings.CutSuffix(n, "2"); ok {
		tries = append(tries, base)
	}
	for _, t := range tries {
		f, err := resolve(filepath.Join(*manDir, t+".2.gz"), 0)
		if !errors.Is(err, os.ErrNotExist) {
			return f, err
		}
	}
	return "", os.ErrNotExist
}

// resolve follows a page's symbolic links and .so requests to its text.
func resolve(file string, depth int) (string, error) {
	file, err := filepath.EvalSymlinks(file)
	if err != nil {
		return "", err
	}
	src, err := source(file)
	if err != nil {
		return "", err
	}
	for line := range strings.Lines(src) {
		if strings.HasPrefix(line, `.\"`) || strings.HasPrefix(line, `'\"`) {
			continue
		}
		if to, ok := strings.CutPrefix(strings.TrimSpace(line), ".so "); ok && depth < 4 {
			return resolve(filepath.Join(filepath.Dir(filepath.Dir(file)), to+".gz"), depth+1)
		}
		break
	}
	return file, nil
}

func source(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return "", fmt.Errorf("%s: %w", file, err)
	}
	b, err := io.ReadAll(z)
	return string(b), err
}

// render is the page as man shows it, in plain UTF-8 text, one line per
// filled paragraph.
func render(file string) (string, error) {
	cmd := exec.Command("man", "-P", "cat", "-l", file)
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "MAN") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG")
	}), "LC_ALL=C.UTF-8", "MANWIDTH="+width)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("man: %v: %s", err, stderr.Bytes())
	}
	text := string(b)
	// The table goes to a terminal: man's output must be text, nothing else.
	if i := strings.IndexFunc(text, func(r rune) bool { return r != '\n' && unicode.IsControl(r) || r == unicode.ReplacementChar }); i >= 0 {
		return "", fmt.Errorf("man's output has %q at %d: formatting was not stripped", text[i], i)
	}
	return text, nil
}

var (
	heading  = regexp.MustCompile(`^[A-Z][A-Z /]*$`)
	errCode  = regexp.MustCompile(`^E[A-Z0-9_]+$`)
	thVerson = regexp.MustCompile(`(?m)^\.TH .*"(Linux man-pages [^"]+)"`)
)

func readPage(file string) (*page, error) {
	text, err := render(file)
	if err != nil {
		return nil, err
	}
	src, err := source(file)
	if err != nil {
		return nil, err
	}
	secs := sections(text)
	p := &page{file: file, name: strings.TrimSuffix(filepath.Base(file), ".2.gz")}
	name := strings.Join(strings.Fields(strings.Join(secs["NAME"], " ")), " ")
	_, p.summary, _ = strings.Cut(name, " - ")
	if p.summary == "" {
		return nil, fmt.Errorf("NAME %q has no description", name)
	}
	p.synopsis = synopsis(secs["SYNOPSIS"])
	p.desc = budget(paragraphs(secs["DESCRIPTION"]), descBudget)
	p.ret = budget(paragraphs(secs["RETURN VALUE"]), retBudget)
	p.errs = errorEntries(secs["ERRORS"])
	p.notice, p.license = notice(src)
	return p, nil
}

// sections splits man's text at its headings (the lines that start at the
// margin; the header and footer lines are not all capitals), dedented by
// the body's indent.
func sections(text string) map[string][]string {
	secs := map[string][]string{}
	cur := ""
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, " \n")
		switch {
		case line != "" && line[0] != ' ' && heading.MatchString(line):
			cur = line
		case line != "" && line[0] != ' ':
			cur = "" // the header or the footer
		case cur != "":
			secs[cur] = append(secs[cur], strings.TrimPrefix(line, "       "))
		}
	}
	return secs
}

// synopsis is SYNOPSIS without the feature test macros, which say how to
// compile a caller, not what the call takes.
func synopsis(lines []string) string {
	var keep []string
	for _, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "Feature Test Macro Requirements") {
			break
		}
		keep = append(keep, l)
	}
	return strings.Trim(strings.Join(keep, "\n"), "\n")
}

// paragraphs are the blocks between blank lines.
func paragraphs(lines []string) []string {
	var out []string
	var cur []string
	for _, l := range append(lines, "") {
		if strings.TrimSpace(l) == "" {
			if len(cur) > 0 {
				out = append(out, strings.Join(cur, "\n"))
			}
			cur = nil
			continue
		}
		cur = append(cur, l)
	}
	return out
}

// budget is the first paragraphs that fit in n characters, or the first
// sentences of the first.
func budget(paras []string, n int) string {
	used := 0
	for i, p := range paras {
		switch {
		case i == 0 && len(p) > n:
			return sentences(p, n)
		case used+len(p) > n:
			return strings.Join(paras[:i], "\n\n")
		}
		used += len(p)
	}
	return strings.Join(paras, "\n\n")
}

// errorEntries reads ERRORS: each entry is a line at the section's margin
// that starts with its errno (or several: "EAGAIN or EWOULDBLOCK"), its text
// after the codes and in the indented lines below them. Any other line at
// the margin ("The following errors can occur for openat():") ends it.
func errorEntries(lines []string) []errEntry {
	var out []errEntry
	in := false
	for _, l := range lines {
		fs := strings.Fields(l)
		switch {
		case len(fs) == 0:
		case l[0] == ' ':
			if in {
				out[len(out)-1].text = strings.Join(append(strings.Fields(out[len(out)-1].text), fs...), " ")
			}
		case isCode(fs[0]):
			var e errEntry
			i := 0
			for ; i < len(fs); i++ {
				switch {
				case isCode(fs[i]):
					e.codes = append(e.codes, strings.TrimSuffix(fs[i], ","))
				case fs[i] == "or" && i+1 < len(fs) && isCode(fs[i+1]):
				default:
					e.text = strings.Join(fs[i:], " ")
					i = len(fs)
				}
			}
			out, in = append(out, e), true
		default:
			in = false
		}
	}
	out = slices.DeleteFunc(out, func(e errEntry) bool { return e.text == "" })
	for i := range out {
		out[i].text = sentences(out[i].text, errBudget)
	}
	return out
}

// sentences is the first sentences of s that fit in n characters; a first
// sentence longer than that is cut after a word, and says so.
func sentences(s string, n int) string {
	if len(s) <= n {
		return s
	}
	end := 0
	for i := 0; i+1 < len(s) && i < n; i++ {
		if s[i] == '.' && s[i+1] == ' ' {
			end = i + 1
		}
	}
	if end > 0 {
		return s[:end]
	}
	if i := strings.LastIndexByte(s[:n], ' '); i > 0 {
		return s[:i] + " …"
	}
	return s[:n] + "…"
}

func isCode(word string) bool { return errCode.MatchString(strings.TrimSuffix(word, ",")) }

// notice is the copyright and licence lines at the top of a page's source
// (up to its SPDX identifier or the end of its licence block), and the
// licence's name.
func notice(src string) (text, license string) {
	var lines []string
	for line := range strings.Lines(src) {
		line = strings.TrimRight(line, "\n")
		c, ok := strings.CutPrefix(line, `.\"`)
		if !ok {
			c, ok = strings.CutPrefix(line, `\"`) // fanotify_init.2 drops the dot
		}
		if !ok {
			if strings.HasPrefix(line, `'\"`) { // a preprocessor line: tbl
				continue
			}
			break
		}
		c = strings.TrimPrefix(c, " ")
		lines = append(lines, c)
		if id, ok := strings.CutPrefix(c, "SPDX-License-Identifier: "); ok {
			return strings.Join(lines, "\n"), id
		}
		if strings.HasPrefix(c, "%%%LICENSE_END") {
			break
		}
	}
	license = "as its notice says"
	for _, l := range lines {
		if m, ok := strings.CutPrefix(l, "%%%LICENSE_START("); ok {
			license, _, _ = strings.Cut(m, ")")
			break
		}
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n"), license
}

func manVersion(file string) (string, error) {
	src, err := source(file)
	if err != nil {
		return "", err
	}
	m := thVerson.FindStringSubmatch(src)
	if m == nil {
		return "", fmt.Errorf("%s: no man-pages version on its .TH line", file)
	}
	return m[1], nil
}

func licenses(pages []*page) []string {
	var ls []string
	for _, p := range pages {
		ls = append(ls, p.license)
	}
	slices.Sort(ls)
	return slices.Compact(ls)
}

func goFile(version string, pages []*page, calls []call, missing []string, errnos [][2]string) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by go run ./gen; DO NOT EDIT.\n\n")
	wrapComment(&b, fmt.Sprintf("The page texts are from the %s, section 2, rendered by man-db's man: "+
		"each page keeps its own licence (%s); LICENSE.man-pages, next to this file, has every page's "+
		"copyright notice and the licence texts.", version, strings.Join(licenses(pages), ", ")))
	b.WriteString("//\n// The errno texts are the Linux back end's (core/backend/linux/strace/errno.go).\n//\n")
	wrapComment(&b, "Calls with no page in these man-pages: "+strings.Join(missing, ", ")+".")
	fmt.Fprintf(&b, "\npackage manual\n\n")
	fmt.Fprintf(&b, "const manVersion = %q\n\n", version)
	fmt.Fprintf(&b, "var pages = [...]page{\n")
	for _, p := range pages {
		fmt.Fprintf(&b, "\t{name: %q, summary: %q, synopsis: %q, desc: %q, ret: %q, errors: []errorEntry{",
			p.name, p.summary, p.synopsis, p.desc, p.ret)
		for i, e := range p.errs {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "{%q, %q}", strings.Join(e.codes, " "), e.text)
		}
		b.WriteString("}},\n")
	}
	b.WriteString("}\n\n// calls are the pages' indexes by call name.\nvar calls = map[string]uint16{\n")
	for _, c := range calls {
		fmt.Fprintf(&b, "\t%q: %d,\n", c.name, c.page.index)
	}
	b.WriteString("}\n\nvar errnoTexts = map[string]string{\n")
	for _, e := range errnos {
		fmt.Fprintf(&b, "\t%q: %q,\n", e[0], e[1])
	}
	b.WriteString("}\n")
	return format.Source(b.Bytes())
}

func wrapComment(b *bytes.Buffer, s string) {
	line := "//"
	for _, w := range strings.Fields(s) {
		if len(line)+1+len(w) > 100 {
			b.WriteString(line + "\n")
			line = "//"
		}
		line += " " + w
	}
	b.WriteString(line + "\n")
}

// licenseFile is the note the pages' licences ask for: each page's
// copyright and licence, then the licence texts of Debian's copyright file.
func licenseFile(version string, pages []*page) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "zmanual.go holds text processed from these pages of the %s,\n", version)
	fmt.Fprintf(&b, "section 2, as Debian's manpages-dev package installs them (sources: %s,\n", *manDir)
	fmt.Fprintf(&b, "upstream https://www.kernel.org/pub/linux/docs/man-pages/). Each page's copyright notice\n")
	fmt.Fprintf(&b, "and licence follow, as its source states them; then the texts of those licences, from\n%s.\n", *copyright)
	for _, p := range pages {
		fmt.Fprintf(&b, "\n== %s(2) (%s)\n%s\n", p.name, filepath.Base(p.file), p.notice)
	}
	texts, err := licenseTexts(*copyright)
	if err != nil {
		return nil, err
	}
	b.WriteString("\n== Licence texts (Debian's copyright file of manpages-dev)\n\n")
	b.WriteString(texts)
	return b.Bytes(), nil
}

// licenseTexts are the stand-alone License paragraphs of a Debian
// (DEP-5) copyright file: the licences' texts, not which file has which.
func licenseTexts(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%w: apt-get install manpages-dev", err)
	}
	var out strings.Builder
	for _, para := range strings.Split(string(b), "\n\n") {
		if strings.HasPrefix(para, "License:") {
			out.WriteString(strings.TrimSpace(para) + "\n\n")
		}
	}
	if out.Len() == 0 {
		return "", fmt.Errorf("%s: no licence texts", file)
	}
	return out.String(), nil
}
