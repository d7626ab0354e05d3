package commands

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"nitro/api"
)

// summary counts calls into strace -c's table: per call, how many, how
// many failed, and the time from entry to exit (strace -c -w's latency:
// nitro sees the guest's clock from outside, not its CPU time).
type summary struct {
	dst     io.Writer
	calls   map[string]*callCount
	entries map[int]time.Time // per thread, the entry waiting for its exit
}

type callCount struct {
	name   string
	calls  int
	errors int
	time   time.Duration
}

func newSummary(dst io.Writer) *summary {
	return &summary{dst: dst, calls: make(map[string]*callCount), entries: make(map[int]time.Time)}
}

func (s *summary) attached(context.Context, api.Session) error { return nil }
func (s *summary) flush() error                                { return nil }

func (s *summary) write(sc *api.Syscall) error {
	name := sc.Name
	if sc.ABI != api.X8664 {
		name = sc.ABI.String() + ":" + name // another numbering: another call
	}
	if sc.NoReturn() {
		return nil // strace -c counts a call at its exit: exit_group has none
	}
	c := s.calls[name]
	if c == nil {
		c = &callCount{name: name}
		s.calls[name] = c
	}
	tid := sc.Process.TID
	if sc.Direction == api.Enter {
		c.calls++
		s.entries[tid] = sc.Time
		return nil
	}
	at, ok := s.entries[tid]
	delete(s.entries, tid)
	if ok && sc.Matched {
		c.time += sc.Time.Sub(at)
	} else {
		c.calls++ // its entry came before the trace did
	}
	if sc.Failed() {
		c.errors++
	}
	return nil
}

const summaryRule = "------ ----------- ----------- --------- --------- ----------------\n"

// end prints the table, as strace -c sorts it: most time first.
func (s *summary) end() error {
	rows := make([]*callCount, 0, len(s.calls))
	total := callCount{name: "total"}
	for _, c := range s.calls {
		rows = append(rows, c)
		total.calls += c.calls
		total.errors += c.errors
		total.time += c.time
	}
	slices.SortFunc(rows, func(a, b *callCount) int {
		return cmp.Or(cmp.Compare(b.time, a.time), strings.Compare(a.name, b.name))
	})
	w := bufio.NewWriter(s.dst)
	fmt.Fprint(w, "% time     seconds  usecs/call     calls    errors syscall\n", summaryRule)
	for _, c := range rows {
		pct := 0.0
		if total.time > 0 {
			pct = 100 * float64(c.time) / float64(total.time)
		}
		writeRow(w, fmt.Sprintf("%6.2f", pct), c)
	}
	fmt.Fprint(w, summaryRule)
	writeRow(w, "100.00", &total)
	return w.Flush()
}

func writeRow(w io.Writer, pct string, c *callCount) {
	errs := ""
	if c.errors > 0 {
		errs = fmt.Sprint(c.errors)
	}
	perCall := int64(0)
	if c.calls > 0 {
		perCall = c.time.Microseconds() / int64(c.calls)
	}
	fmt.Fprintf(w, "%s %11.6f %11d %9d %9s %s\n", pct, c.time.Seconds(), perCall, c.calls, errs, api.Safe(c.name))
}
