package e2e

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"nitro/internal/lab"
)

// straceGuests are the guests whose mix step the tests trace: the 6.1
// one. The 6.12 one runs only nitro-rich under strace (richGuests): traced,
// its mix step takes some 35 s more every third iteration, which the
// tests waiting there for the probe would pay.
var straceGuests = []lab.Guest{lab.Default}

// stepKind is one of the lab's steps under the guest's strace (lab/guest/init).
type stepKind struct {
	begin, end *regexp.Regexp // its markers on the console
	comms      string         // nitro trace --comm for its processes
	table      bool           // strace -C's table follows its calls
}

var (
	// mixStep is strace_mix: its processes are its shell, its children
	// before they exec, and the programs they exec, which the guest runs
	// nowhere else.
	mixStep = stepKind{
		begin: regexp.MustCompile(`^nitro-lab: strace begin$`),
		end:   regexp.MustCompile(`^nitro-lab: strace end$`),
		comms: "sh,tr,head,usleep",
		table: true,
	}
	// richStep is strace_rich: nitro-rich, its threads and children.
	richStep = stepKind{
		begin: regexp.MustCompile(`^nitro-lab: strace rich begin$`),
		end:   regexp.MustCompile(`^nitro-lab: strace rich end$`),
		comms: "nitro-rich",
	}
)

var (
	// straceCall is one of strace -f -o's lines: the pid, then the call.
	straceCall = regexp.MustCompile(`^strace: (\d+) +(.*)$`)
	// straceRow is a row of strace -c's table: calls, errors (blank for
	// none) and the name.
	straceRow = regexp.MustCompile(`^strace: +[\d.]+ +[\d.]+ +\d+ +(\d+) +(\d*) +(\S+)$`)
	// padding is strace's: it aligns " = " at column 40, nitro does not.
	padding = regexp.MustCompile(`\) {2,}= `)
	// resumed is the second part of a call split in two, by strace or nitro.
	resumed = regexp.MustCompile(`^<\.\.\. ([a-z0-9_]+) resumed>(.*)$`)
)

// straceStep is one run of the strace step as the guest printed it.
type straceStep struct {
	calls map[int][]string // strace's calls by pid, each whole
	first int              // the pid strace started (its first line's)
	table map[string]int   // strace -c's table: calls by name
	errs  map[string]int   // and errors by name
}

// waitStraceStep waits for the next step of kind k whose begin the serial
// log shows after offset from, and returns it.
func waitStraceStep(t *testing.T, g lab.Guest, k stepKind, from int) straceStep {
	t.Helper()
	_, begin, err := g.WaitSerial(k.begin, from, 3*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	_, end, err := g.WaitSerial(k.end, begin, 3*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	log, err := g.Serial()
	if err != nil {
		t.Fatal(err)
	}
	st := straceStep{calls: map[int][]string{}, table: map[string]int{}, errs: map[string]int{}}
	var lines []straceLine
	for l := range strings.SplitSeq(log[begin:end], "\n") {
		l = strings.TrimSuffix(l, "\r")
		if m := straceCall.FindStringSubmatch(l); m != nil {
			pid, _ := strconv.Atoi(m[1])
			if st.first == 0 {
				st.first = pid
			}
			lines = append(lines, straceLine{pid, m[2]})
		} else if m := straceRow.FindStringSubmatch(l); m != nil && m[3] != "total" {
			st.table[m[3]], _ = strconv.Atoi(m[1])
			st.errs[m[3]], _ = strconv.Atoi(m[2])
		}
	}
	for pid, calls := range joinCalls(lines) {
		for _, c := range calls {
			if c.unseen {
				t.Fatalf("strace pid %d: %s resumed without its entry", pid, c.name)
			}
			st.calls[pid] = append(st.calls[pid], c.text)
		}
	}
	if st.first == 0 || k.table && len(st.table) == 0 {
		t.Fatalf("no strace lines or table between the markers:\n%s", log[begin:end])
	}
	return st
}

// straceLine is one line of strace's or nitro's: a process and its text.
type straceLine struct {
	pid  int
	text string
}

// joinedCall is one call of a trace with its unfinished and resumed parts
// joined: the whole call as strace prints it on one line.
type joinedCall struct {
	name   string
	text   string
	unseen bool // only its resumed part: text is what follows the arguments shown at entry
}

// joinCalls joins each process's split calls, as strace and nitro split
// them (the unfinished part ends where the resumed part goes on), and
// takes out strace's padding before " = ".
func joinCalls(lines []straceLine) map[int][]joinedCall {
	calls := map[int][]joinedCall{}
	pending := map[int]string{}
	for _, l := range lines {
		text := padding.ReplaceAllString(l.text, ") = ")
		if head, ok := strings.CutSuffix(text, "<unfinished ...>"); ok {
			pending[l.pid] = strings.TrimSuffix(head, " ")
			continue
		}
		c := joinedCall{name: callName(text), text: text}
		if m := resumed.FindStringSubmatch(text); m != nil {
			head, ok := pending[l.pid]
			delete(pending, l.pid)
			c = joinedCall{name: m[1], text: head + m[2], unseen: !ok}
			if !ok {
				c.text = m[2]
			}
		}
		calls[l.pid] = append(calls[l.pid], c)
	}
	return calls
}

func callName(text string) string {
	name, _, _ := strings.Cut(text, "(")
	return name
}

// nitroTrace runs `nitro trace` with flags on g until stop returns, then
// interrupts it as Ctrl+C would, and returns what it wrote.
func nitroTrace(t *testing.T, g lab.Guest, stop func(), flags ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "trace")
	args := append([]string{"-c", lab.URI, "trace", "-o", out}, flags...)
	cmd := exec.Command(nitroBin, append(args, g.Name)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := false
	t.Cleanup(func() { // stop failed the test: nitro must not stay attached
		if !done {
			_ = cmd.Process.Signal(syscall.SIGINT)
			_ = cmd.Wait()
		}
	})
	stop()
	done = true
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("nitro %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// tracedStep traces g with flags over steps of kind k until one whose
// start nitro saw, as covered says, and returns it with nitro's output. A
// step may have begun before nitro attached: the next one is taken then.
func tracedStep(t *testing.T, g lab.Guest, k stepKind, covered func(straceStep, string) bool, flags ...string) (straceStep, string) {
	t.Helper()
	for range 2 {
		var st straceStep
		from := serialSize(t, g)
		out := nitroTrace(t, g, func() { st = waitStraceStep(t, g, k, from) }, flags...)
		if covered(st, out) {
			requireRunning(t, g)
			return st, out
		}
		t.Logf("nitro attached after strace step %d began; taking the next", st.first)
	}
	t.Fatal("nitro saw the start of no strace step")
	return straceStep{}, ""
}

// TestStraceText compares nitro's text with the guest's own strace -f of
// the mix's processes, call for call.
func TestStraceText(t *testing.T) {
	lab.RequireRoot(t)
	for _, g := range straceGuests {
		t.Run(g.Name, func(t *testing.T) { compareStraceText(t, g, mixStep) })
	}
}

// compareStraceText traces a step of kind k on g and compares nitro's text
// with the guest's own strace -f of the same processes (threads are
// processes to both), call for call: each call whole (joined where either
// split it), with strace's padding taken out; nothing else differs. It
// returns the step as strace showed it.
func compareStraceText(t *testing.T, g lab.Guest, k stepKind) straceStep {
	t.Helper()
	var byPID map[int][]joinedCall
	covered := func(st straceStep, out string) bool {
		var lines []straceLine
		for l := range strings.SplitSeq(out, "\n") {
			if m := textPID.FindStringSubmatch(l); m != nil {
				pid, _ := strconv.Atoi(m[1])
				lines = append(lines, straceLine{pid, m[2]})
			}
		}
		byPID = joinCalls(lines)
		// strace's first process: nitro sees its execve return (its
		// entry was strace's, named so), then all it did.
		calls := byPID[st.first]
		return len(calls) > 0 && calls[0].name == "execve"
	}
	st, _ := tracedStep(t, g, k, covered, "--format", "text", "--comm", k.comms)
	checked := 0
	for pid, want := range st.calls {
		got := byPID[pid]
		// Before strace's first line of a child or thread nitro sees its
		// return from fork or clone3, which strace does not print.
		if len(got) > 0 && got[0].unseen && got[0].name != callName(want[0]) {
			got = got[1:]
		}
		if len(got) != len(want) {
			t.Errorf("pid %d: nitro shows %d calls, strace %d:\nnitro:  %v\nstrace: %v", pid, len(got), len(want), got, want)
			continue
		}
		for i, c := range got {
			if c.name != callName(want[i]) || !c.unseen && c.text != want[i] || c.unseen && !strings.HasSuffix(want[i], c.text) {
				t.Errorf("pid %d call %d:\nnitro:  %s\nstrace: %s", pid, i, c.text, want[i])
			}
			checked++
		}
	}
	t.Logf("%d calls of %d processes alike", checked, len(st.calls))
	return st
}

// summaryRow is a row of `nitro trace --summary`: calls, errors (blank
// for none) and the name.
var summaryRow = regexp.MustCompile(`^ *[\d.]+ +[\d.]+ +\d+ +(\d+) +(\d*) +(\S+)$`)

// TestStraceSummary compares `nitro trace --summary` of the strace step's
// processes with strace -c -f's table of the same run: the same calls, as
// many of each, as many failed.
func TestStraceSummary(t *testing.T) {
	lab.RequireRoot(t)
	for _, g := range straceGuests {
		t.Run(g.Name, func(t *testing.T) {
			calls, errs := map[string]int{}, map[string]int{}
			covered := func(st straceStep, out string) bool {
				clear(calls)
				clear(errs)
				for l := range strings.SplitSeq(out, "\n") {
					if m := summaryRow.FindStringSubmatch(l); m != nil && m[3] != "total" {
						calls[m[3]], _ = strconv.Atoi(m[1])
						errs[m[3]], _ = strconv.Atoi(m[2])
					}
				}
				// strace counts its child's execve of the shell: nitro, there
				// from the start, sees it return.
				return calls["execve"] == st.table["execve"]
			}
			st, out := tracedStep(t, g, mixStep, covered, "--summary", "--comm", mixStep.comms)
			names := slices.Sorted(maps.Keys(st.table))
			for n := range calls {
				if _, ok := st.table[n]; !ok {
					names = append(names, n)
				}
			}
			var diff []string
			for _, n := range names {
				if calls[n] != st.table[n] || errs[n] != st.errs[n] {
					diff = append(diff, fmt.Sprintf("%s: nitro %d calls %d errors, strace %d calls %d errors", n, calls[n], errs[n], st.table[n], st.errs[n]))
				}
			}
			if len(diff) > 0 {
				t.Errorf("nitro's summary differs from strace -c's:\n%s\nnitro's:\n%s", strings.Join(diff, "\n"), out)
			}
		})
	}
}
