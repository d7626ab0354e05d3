package e2e

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"nitro/core/vmi/qemulayout"
	"nitro/internal/escape"
	"nitro/internal/lab"
)

// hostile is the hostile lab guest: the light workload, and beside it
// nitro-hostile (lab/guest/hostile.c) as uid 1000, which keeps decoy
// kallsyms tables in its memory, names itself and its files with bytes
// that drive terminals, and makes calls with huge argument and iovec
// counts and pointers to unmapped and kernel memory.
var hostile = &onDemand{Guest: lab.Guest{Name: "nitro-hostile", Kernel: "6.1", VCPUs: 1, Workload: "hostile", Vendor: "AMD"}}

func init() { onDemandGuests = append(onDemandGuests, hostile) }

// hostileStart is what nitro-hostile printed when it started: its pid, its
// uid after dropping root, the bytes of its process name and of the argv[0]
// of the programs it runs, and how many decoy tables it planted.
type hostileStart struct {
	pid, uid, decoys int
	comm, arg0       []byte
}

var (
	hostileStartLine = regexp.MustCompile(`^nitro-hostile: start pid (\d+) uid (\d+) gid \d+ mlock (-?\d+) comm ([0-9a-f]+) arg0 ([0-9a-f]+) decoys (\d+) banner [0-9a-f]+$`)
	hostileRoundLine = regexp.MustCompile(`^nitro-hostile: round \d+ pid (\d+) path ([0-9a-f]+) results (.*) manypid=(\d+) execve_many=(\d+) longpid=(\d+) execve_long=(\d+)$`)
	bootLine         = regexp.MustCompile(`(?m)^nitro-lab: boot kernel=(\S+) `)
)

// hostileGuest boots the hostile guest if it does not run and returns it
// and what nitro-hostile printed at its start.
func hostileGuest(t *testing.T) (lab.Guest, hostileStart) {
	t.Helper()
	g := hostile.up(t)
	m, _, err := g.WaitSerial(hostileStartLine, 0, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var s hostileStart
	s.pid, _ = strconv.Atoi(m[1])
	s.uid, _ = strconv.Atoi(m[2])
	s.decoys, _ = strconv.Atoi(m[6])
	s.comm, _ = hex.DecodeString(m[4])
	s.arg0, _ = hex.DecodeString(m[5])
	if s.uid == 0 || m[3] != "0" {
		t.Fatalf("nitro-hostile runs as uid %d, and mlock of its decoys returned %s; want a user, and 0", s.uid, m[3])
	}
	return g, s
}

// hostileRound is one round of nitro-hostile's calls as it printed them.
type hostileRound struct {
	pid              int
	path             []byte
	results          map[string]int64 // by call site
	manyPID, longPID int
}

// nextHostileRound waits for the next round nitro-hostile prints after offset after.
func nextHostileRound(t *testing.T, g lab.Guest, after int) hostileRound {
	t.Helper()
	m, _, err := g.WaitSerial(hostileRoundLine, after, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	r := hostileRound{results: map[string]int64{}}
	r.pid, _ = strconv.Atoi(m[1])
	r.path, _ = hex.DecodeString(m[2])
	r.manyPID, _ = strconv.Atoi(m[4])
	r.longPID, _ = strconv.Atoi(m[6])
	for f := range strings.FieldsSeq(m[3]) {
		site, v, _ := strings.Cut(f, "=")
		r.results[site], _ = strconv.ParseInt(v, 10, 64)
	}
	if m[5] != "0" || m[7] != "0" {
		t.Fatalf("nitro-hostile's execs failed (wait statuses %s and %s): %s", m[5], m[7], m[0])
	}
	return r
}

// requirePrintable fails unless every byte of out is printable ASCII or a
// line end or tab: no guest byte may reach the terminal raw.
func requirePrintable(t *testing.T, what string, out []byte) {
	t.Helper()
	for i, c := range out {
		if (c < 0x20 || c > 0x7e) && c != '\n' && c != '\t' {
			t.Errorf("%s: byte %d is %#02x: %q", what, i, c, out[max(0, i-40):min(len(out), i+40)])
			return
		}
	}
}

// TestHostileSymbols: with a complete fake kernel and 20 more copies of its
// kallsyms tables resident in a user process's memory, the symbols nitro
// finds are the guest's own (its /proc/kallsyms lines at boot), none of the
// fake's, and the kernel it names is the one that booted.
func TestHostileSymbols(t *testing.T) {
	g, start := hostileGuest(t)
	log, err := g.Serial()
	if err != nil {
		t.Fatal(err)
	}
	// The decoys are there: every copy of the tables holds the fake's last
	// function's name entry (its length byte, then its type and name).
	entry := []byte("\x0fthostile_fn_599")
	n := countInRAM(t, g, entry)
	t.Logf("guest RAM holds %d copies of the decoy tables", n)
	if n < start.decoys {
		t.Fatalf("guest RAM holds %d copies of the decoy tables, nitro-hostile planted %d", n, start.decoys)
	}
	lines := kallsymsLine.FindAllStringSubmatch(log, -1)
	if len(lines) < 8 {
		t.Fatalf("guest printed %d kallsyms lines, want at least 8", len(lines))
	}
	checkSymbols(t, g, t.TempDir(), "hostile", lines)
	out := runNitro(t, "-c", lab.URI, "symbols", g.Name)
	requirePrintable(t, "nitro symbols", out)
	if bytes.Contains(out, []byte("hostile_fn_")) {
		t.Error("nitro symbols lists the decoy kernel's functions")
	}

	boot := bootLine.FindStringSubmatch(log)
	if boot == nil {
		t.Fatal("the guest printed no boot line")
	}
	var profile struct{ Kernel string }
	prof := runNitro(t, "-c", lab.URI, "profile", g.Name)
	requirePrintable(t, "nitro profile", prof)
	if err := json.Unmarshal(prof, &profile); err != nil {
		t.Fatalf("nitro profile: %v\n%s", err, prof)
	}
	if !strings.HasPrefix(profile.Kernel, "Linux version "+boot[1]+" ") {
		t.Errorf("nitro profile names kernel %q, the guest booted %s", profile.Kernel, boot[1])
	}
}

// countInRAM counts the places pattern occurs in g's RAM, read from QEMU's
// process as nitro reads it.
func countInRAM(t *testing.T, g lab.Guest, pattern []byte) int {
	t.Helper()
	dom := labDomain(t, g)
	pid, err := dom.QEMUPid()
	if err != nil {
		t.Fatal(err)
	}
	mem, err := qemulayout.Open(pid, dom.HMP)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	const chunk = 4 << 20
	buf := make([]byte, chunk+len(pattern)-1)
	n := 0
	for _, r := range mem.Ranges() {
		for pa := r.GPA; pa < r.GPA+r.Size; pa += chunk {
			b := buf[:min(uint64(len(buf)), r.GPA+r.Size-pa)]
			if err := mem.ReadPhys(b, pa); err != nil {
				t.Fatal(err)
			}
			// Reads overlap by less than the pattern: no match is counted twice.
			n += bytes.Count(b, pattern)
		}
	}
	return n
}

// TestHostilePS: nitro ps, in each of its forms, lists nitro-hostile with
// the uid it runs as and its name escaped, and prints no raw byte.
func TestHostilePS(t *testing.T) {
	g, start := hostileGuest(t)
	name := escape.Bytes(start.comm)

	out := runNitro(t, "-c", lab.URI, "ps", g.Name)
	requirePrintable(t, "nitro ps", out)
	line := regexp.MustCompile(fmt.Sprintf(`(?m)^\s*%d\s+\d+\s+%d\s+\d+\s+%s$`, start.pid, start.uid, regexp.QuoteMeta(name)))
	if !line.Match(out) {
		t.Errorf("nitro ps has no line for pid %d, uid %d, %s:\n%s", start.pid, start.uid, name, out)
	}

	out = runNitro(t, "-c", lab.URI, "ps", "--tree", g.Name)
	requirePrintable(t, "nitro ps --tree", out)
	if !regexp.MustCompile(fmt.Sprintf(`(?m)^\s+%d %s$`, start.pid, regexp.QuoteMeta(name))).Match(out) {
		t.Errorf("nitro ps --tree does not show pid %d as %s:\n%s", start.pid, name, out)
	}

	out = runNitro(t, "-c", lab.URI, "ps", "--json", g.Name)
	requirePrintable(t, "nitro ps --json", out)
	var procs []struct {
		PID, UID int
		Comm     string
	}
	if err := json.Unmarshal(out, &procs); err != nil {
		t.Fatalf("nitro ps --json: %v", err)
	}
	found := false
	for _, p := range procs {
		if p.PID == start.pid {
			found = true
			if p.Comm != name || p.UID != start.uid {
				t.Errorf("nitro ps --json: pid %d is uid %d %q, want uid %d %q", p.PID, p.UID, p.Comm, start.uid, name)
			}
		}
	}
	if !found {
		t.Errorf("nitro ps --json does not list nitro-hostile's pid %d", start.pid)
	}
}

// hostileTraceFor is how long each trace of the hostile guest runs: a few
// rounds of nitro-hostile, a second apart, on a slow TCG guest.
const hostileTraceFor = 40 * time.Second

// hostileTrace traces the hostile guest's openat, writev and execve calls
// in the given format, and checks the trace ended in time and printed no
// raw byte. It returns the output and the first round the guest printed
// once the trace began.
func hostileTrace(t *testing.T, g lab.Guest, format string) ([]byte, hostileRound) {
	t.Helper()
	from, err := g.SerialSize()
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	out := runNitro(t, "-c", lab.URI, "trace", "--format", format, "--syscalls", "openat,writev,execve",
		"--duration", hostileTraceFor.String(), g.Name)
	took := time.Since(began)
	t.Logf("trace --format %s: %d bytes in %s", format, len(out), took.Round(time.Millisecond))
	if took > hostileTraceFor+time.Minute {
		t.Errorf("a %s trace took %s", hostileTraceFor, took)
	}
	requirePrintable(t, "nitro trace --format "+format, out)
	requireRunning(t, g)
	return out, nextHostileRound(t, g, from)
}

// maxArgText bounds an argument's text: strace's 32 elements of an array,
// each a string of 32 bytes, every byte escaped as \xNN, and as much again
// for the fields of a struct element (an iovec's).
const maxArgText = 32 * (2 + 32*4 + 2) * 2

// TestHostileTraceJSON: nitro-hostile's calls in nitro trace's JSON: the
// file name it made is shown escaped, byte for byte, as it printed it; the
// calls given unmapped and kernel pointers return EFAULT and show the
// pointer; the writev calls of IOV_MAX iovecs and more return what the
// program got, and the execs of 5,000 arguments and of an 8,000-byte one
// decode whole, to bounded texts.
func TestHostileTraceJSON(t *testing.T) {
	g, start := hostileGuest(t)
	out, round := hostileTrace(t, g, "json")
	var events []traceEvent
	for l := range bytes.SplitSeq(bytes.TrimSpace(out), []byte("\n")) {
		var e traceEvent
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		events = append(events, e)
	}
	quoted := `"` + escape.Bytes(round.path) + `"`
	arg0 := `"` + escape.Bytes(start.arg0) + `"`
	// The exits of nitro-hostile's calls, by the text of their path or iovec
	// count argument.
	seen := map[string][]int64{}
	execs := map[string]bool{}
	for _, e := range events {
		for i, a := range e.Args {
			if len(a.Text) > maxArgText {
				t.Errorf("%s argument %d is %d bytes long: %.200s...", e.Name, i, len(a.Text), a.Text)
			}
		}
		switch {
		case e.Name == "execve" && e.Direction == "enter" && strings.HasPrefix(e.arg(1), "["+arg0+", "):
			execs[execKind(t, arg0, e.arg(1))] = true
		case e.PID != start.pid || e.Direction != "exit" || !e.Matched:
		case e.Name == "openat":
			path := e.arg(1)
			// The path that runs into an unmapped page: its address is mmap's choice.
			if pointer.MatchString(path) && path != "0x10000" && path != "0xffffffff81000000" {
				path = "the edge of a mapping"
			}
			seen[path] = append(seen[path], e.Ret)
		case e.Name == "writev":
			seen["writev "+e.arg(2)] = append(seen["writev "+e.arg(2)], e.Ret)
		}
	}
	// What the program got back, each of which must show among them.
	res := round.results
	want := map[string][]int64{
		quoted:                  {res["create"], res["open"]},
		"0x10000":               {res["badpath"]},
		"0xffffffff81000000":    {res["kernpath"]},
		"the edge of a mapping": {res["edgepath"]},
		"writev 1024":           {res["writev"]},
		"writev 1025":           {res["writev_over"]},
		"writev 1048576":        {res["writev_huge"]},
		"writev 2":              {res["writev_badbase"], res["writev_badvec"], res["writev_kernvec"]},
	}
	for arg, rets := range want {
		for _, r := range rets {
			if !slices.Contains(seen[arg], r) {
				t.Errorf("no exit of nitro-hostile's call on %s returning %d (the program got it); exits on it: %v", arg, r, seen[arg])
			}
		}
	}
	for _, kind := range []string{"many", "long"} {
		if !execs[kind] {
			t.Errorf("no execve of nitro-hostile's %s arguments among %d events", kind, len(events))
		}
	}
	if res["create"] < 0 || res["writev_over"] != -22 || res["writev_badbase"] != -14 || res["edgepath"] != -14 {
		t.Errorf("nitro-hostile's calls did not do what they are there for: %v", res)
	}
}

var pointer = regexp.MustCompile(`^0x[0-9a-f]+$`)

// execKind tells nitro-hostile's two execs apart by their argv's text,
// which starts with arg0: of 5,000 arguments, strace's first 32 and "...";
// of the 8,000-byte argument, its first 32 bytes and "...".
func execKind(t *testing.T, arg0, argv string) string {
	t.Helper()
	switch {
	case argv == "["+arg0+strings.Repeat(`, "x"`, 31)+", ...]":
		return "many"
	case strings.HasPrefix(argv, "["+arg0+`, "L\x1b\x9bL`) && strings.HasSuffix(argv, `"...]`):
		return "long"
	}
	t.Errorf("an execve of nitro-hostile with argv %s", argv)
	return ""
}

// TestHostileTraceText: in strace's text form the same calls read as the
// program made them, escaped, and nothing raw gets through.
func TestHostileTraceText(t *testing.T) {
	g, _ := hostileGuest(t)
	out, round := hostileTrace(t, g, "text")
	text := string(out)
	for _, want := range []string{
		`openat(AT_FDCWD, "` + escape.Bytes(round.path) + `", O_WRONLY|O_CREAT|O_TRUNC, 0600) = `,
		`openat(AT_FDCWD, 0x10000, O_RDONLY) = -1 EFAULT`,
		`, 1025) = -1 EINVAL`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the text trace has no %s", want)
		}
	}
}

// TestHostileTUI: the TUI on the hostile guest names the kernel that
// booted, shows nitro-hostile's name escaped, in its processes and in its
// calls, and the guest's bytes neither clear the screen nor set the
// terminal's title.
func TestHostileTUI(t *testing.T) {
	g, start := hostileGuest(t)
	log, err := g.Serial()
	if err != nil {
		t.Fatal(err)
	}
	boot := bootLine.FindStringSubmatch(log)
	if boot == nil {
		t.Fatal("the guest printed no boot line")
	}
	tm := startTmux(t, nitroBin+" -c "+lab.URI+" --theme none --domain "+g.Name)
	tm.waitFor(`\| Linux `+regexp.QuoteMeta(boot[1])+` \|`, time.Minute)
	// A call of nitro-hostile's in the syscall pane (time, vCPU, pid, name):
	// the panes cut a long name, its first escapes are enough.
	name := regexp.QuoteMeta(escape.Bytes(start.comm)[:12])
	s := tm.waitFor(fmt.Sprintf(`(?m)^\s*\S+\s+\d+\s+%d\s+%s`, start.pid, name), 2*time.Minute)
	for _, want := range []string{"TIME", "Processes", "Inspector", "ev/s"} {
		if !strings.Contains(s, want) {
			t.Errorf("the screen lost %q once it showed nitro-hostile's calls:\n%s", want, s)
		}
	}
	if !regexp.MustCompile(fmt.Sprintf(`(?m)^\s*%d\s+\d+\s+%s`, start.pid, name)).MatchString(s) {
		t.Errorf("the process pane does not show pid %d as %s:\n%s", start.pid, name, s)
	}
	for i, r := range s {
		if unicode.IsControl(r) && r != '\n' || unicode.Is(unicode.Bidi_Control, r) || r == utf8.RuneError {
			t.Errorf("the screen shows %U at byte %d:\n%s", r, i, s)
			break
		}
	}
	title, err := exec.Command("tmux", "display-message", "-p", "-t", tm.session, "#{pane_title}").Output()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(title, []byte("pwned")) {
		t.Errorf("the guest set the terminal's title: %q", title)
	}
	tm.keys("q")
	tm.gone(30 * time.Second)
	requireRunning(t, g)
}
