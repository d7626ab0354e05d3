package main

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// result is one program's outcome.
type result struct {
	name   string
	pass   bool
	cause  string   // why it failed, or why the guest skipped it
	detail []string // for the report: the difference, the program's stderr
}

// report gathers the outcomes.
type report struct {
	skips        map[string][]string // programs left out, by reason
	built        int
	results      []result
	guestSkipped []result // exit status 77: the program found what it tests missing in the guest
	signals      int      // programs whose lines included signal deliveries, left out
	took         time.Duration
}

func (r *report) skip(name, reason string) {
	if r.skips == nil {
		r.skips = map[string][]string{}
	}
	r.skips[reason] = append(r.skips[reason], name)
}

// judge compares each program's chosen run with nitro's calls of its process.
func (r *report) judge(tests map[string]test, runs map[string]run, calls map[int][]string) {
	for name, t := range tests {
		res := result{name: name}
		ru, ok := runs[name]
		if !ok {
			res.cause = "nitro saw no whole run of it"
			r.results = append(r.results, res)
			continue
		}
		want, signals := expected(ru)
		if signals > 0 {
			r.signals++
		}
		got, _ := nitroLines(t, calls[ru.pid])
		switch {
		case ru.status == 77:
			res.cause = "the program skipped itself (exit status 77)"
			res.detail = ru.err
			r.guestSkipped = append(r.guestSkipped, res)
			continue
		case ru.status != 0:
			res.cause = "the program failed: exit status " + statusText(ru.status)
			res.detail = ru.err
		default:
			d := compare(want, got)
			if d == nil {
				res.pass = true
				break
			}
			res.cause = d.cause()
			res.detail = []string{
				fmt.Sprintf("line %d (program %d lines, nitro %d):", d.line, d.wantN, d.gotN),
				"  strace: " + orNone(d.want, d.wantOK),
				"  nitro:  " + orNone(d.got, d.gotOK),
			}
		}
		r.results = append(r.results, res)
	}
	byName := func(a, b result) int { return strings.Compare(a.name, b.name) }
	slices.SortFunc(r.results, byName)
	slices.SortFunc(r.guestSkipped, byName)
}

func orNone(s string, ok bool) string {
	if !ok {
		return "(no line)"
	}
	return s
}

func (r *report) failed() int {
	n := 0
	for _, res := range r.results {
		if !res.pass {
			n++
		}
	}
	return n
}

// write prints the summary, and with all every program's outcome first.
func (r *report) write(w io.Writer, all bool) {
	if all {
		for _, res := range r.results {
			if res.pass {
				fmt.Fprintf(w, "PASS %s\n", res.name)
				continue
			}
			fmt.Fprintf(w, "FAIL %s: %s\n", res.name, res.cause)
			for _, d := range res.detail {
				fmt.Fprintf(w, "     %s\n", d)
			}
		}
		for _, res := range r.guestSkipped {
			fmt.Fprintf(w, "SKIP %s: %s\n", res.name, res.cause)
			for _, d := range res.detail {
				fmt.Fprintf(w, "     %s\n", d)
			}
		}
		fmt.Fprintln(w)
	}
	skipped := 0
	for _, names := range r.skips {
		skipped += len(names)
	}
	fmt.Fprintf(w, "strace 6.1 test programs: %d; left out: %d; built: %d; run and compared: %d; skipped by the program in the guest: %d\n",
		skipped+r.built, skipped, r.built, len(r.results), len(r.guestSkipped))
	fmt.Fprintf(w, "passed: %d, failed: %d (programs whose signal lines were left out: %d; took %s)\n",
		len(r.results)-r.failed(), r.failed(), r.signals, r.took.Round(time.Second))
	fmt.Fprintln(w, "left out, by reason:")
	writeGroups(w, r.skips, all)
	causes := map[string][]string{}
	for _, res := range r.results {
		if !res.pass {
			causes[res.cause] = append(causes[res.cause], res.name)
		}
	}
	if len(causes) > 0 {
		fmt.Fprintln(w, "failed, by cause:")
		writeGroups(w, causes, true)
	}
}

// writeGroups prints groups of programs, the largest first, with their
// names when names is set.
func writeGroups(w io.Writer, groups map[string][]string, names bool) {
	keys := slices.SortedFunc(maps.Keys(groups), func(a, b string) int {
		return cmp.Or(len(groups[b])-len(groups[a]), strings.Compare(a, b))
	})
	for _, k := range keys {
		fmt.Fprintf(w, "  %4d  %s", len(groups[k]), k)
		if names {
			slices.Sort(groups[k])
			fmt.Fprintf(w, ": %s", strings.Join(groups[k], " "))
		}
		fmt.Fprintln(w)
	}
}
