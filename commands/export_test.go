package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"nitro/api"
	"nitro/internal/escape"
	"nitro/record"
	"nitro/ui/uitest"
)

// traced is one event of an export, read back after checkTraceEvents.
type traced struct {
	name, ph string
	ts, dur  int64 // nanoseconds; dur is -1 for a "B"
	pid, tid int
	args     map[string]any
}

// end is where the slice ends; a "B" without "E" never does.
func (e traced) end() int64 {
	if e.dur < 0 {
		return math.MaxInt64
	}
	return e.ts + e.dur
}

// exportPerfetto runs nitro export --perfetto on the recording at path and
// returns its events, checked against the Trace Event Format, and what it
// said on stderr.
func exportPerfetto(t *testing.T, path string) ([]traced, string) {
	t.Helper()
	var out, stderr bytes.Buffer
	if err := Export(context.Background(), []string{"--perfetto", path}, &out, &stderr); err != nil {
		t.Fatalf("export: %v (%s)", err, stderr.String())
	}
	return checkTraceEvents(t, out.Bytes()), stderr.String()
}

// checkTraceEvents checks b against the rules of the Trace Event Format
// (JSON object form) and what Perfetto's importer needs, and returns its
// events.
func checkTraceEvents(t *testing.T, b []byte) []traced {
	t.Helper()
	for i, c := range b {
		if (c < 0x20 || c > 0x7e) && c != '\n' {
			t.Fatalf("byte %#x at %d is not printable ASCII: the output may drive a terminal", c, i)
		}
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	for k := range top {
		// Perfetto stops reading at a top-level key it does not know.
		if k != "traceEvents" && k != "otherData" {
			t.Errorf("top-level key %q", k)
		}
	}
	if bytes.Index(b, []byte(`"otherData"`)) > bytes.Index(b, []byte(`"traceEvents"`)) {
		t.Error("otherData comes after traceEvents: Perfetto reads it only before")
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(top["traceEvents"], &raws); err != nil {
		t.Fatalf("traceEvents is not an array: %v", err)
	}
	var evs []traced
	for _, raw := range raws {
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			t.Fatalf("event %s: %v", raw, err)
		}
		ev := traced{name: str(m["name"]), ph: str(m["ph"]), dur: -1, pid: integer(t, m, "pid"), tid: integer(t, m, "tid")}
		ev.ts = micros(t, m, "ts")
		ev.args, _ = m["args"].(map[string]any)
		if ev.name == "" || ev.args == nil {
			t.Errorf("event %s: no name or no args object", raw)
		}
		switch ev.ph {
		case "X":
			if ev.dur = micros(t, m, "dur"); ev.dur < 0 {
				t.Errorf("event %s: negative dur", raw)
			}
		case "B":
			if _, ok := m["dur"]; ok {
				t.Errorf("event %s: B with dur", raw)
			}
		case "M":
			if n, _ := ev.args["name"].(string); n == "" || ev.name != "process_name" && ev.name != "thread_name" {
				t.Errorf("metadata event %s: want process_name or thread_name with args.name", raw)
			}
		default:
			t.Errorf("event %s: phase %q", raw, ev.ph)
		}
		evs = append(evs, ev)
	}
	return evs
}

func str(v any) string { s, _ := v.(string); return s }

// micros reads field k, a number of microseconds, as nanoseconds.
func micros(t *testing.T, m map[string]any, k string) int64 {
	n, ok := m[k].(json.Number)
	f, err := strconv.ParseFloat(string(n), 64)
	if !ok || err != nil {
		t.Fatalf("%s of %v is not a number", k, m)
	}
	return int64(math.Round(f * 1000))
}

func integer(t *testing.T, m map[string]any, k string) int {
	n, ok := m[k].(json.Number)
	i, err := n.Int64()
	if !ok || err != nil || i < 0 {
		t.Fatalf("%s of %v is not a non-negative integer", k, m)
	}
	return int(i)
}

// checkTracks checks what the format leaves to the writer: on each thread
// the calls do not overlap (a thread is in one call at a time), a "B" is
// the thread's last slice, and every thread and its process is named.
// It returns the slices by thread, in time order, and the names.
func checkTracks(t *testing.T, evs []traced) (map[int][]traced, map[string]string) {
	t.Helper()
	byTID := map[int][]traced{}
	names := map[string]string{} // "thread 43" or "process 42": its last name
	for _, e := range evs {
		if e.ph == "M" {
			who := "thread " + strconv.Itoa(e.tid)
			if e.name == "process_name" {
				who = "process " + strconv.Itoa(e.pid)
			}
			names[who] = e.args["name"].(string)
			continue
		}
		byTID[e.tid] = append(byTID[e.tid], e)
	}
	for tid, ss := range byTID {
		slices.SortStableFunc(ss, func(a, b traced) int { return int(a.ts - b.ts) })
		for i := 1; i < len(ss); i++ {
			if ss[i-1].end() > ss[i].ts {
				t.Errorf("thread %d: %s [%d, %d] overlaps %s at %d", tid, ss[i-1].name, ss[i-1].ts, ss[i-1].end(), ss[i].name, ss[i].ts)
			}
		}
		if names["thread "+strconv.Itoa(tid)] == "" || names["process "+strconv.Itoa(ss[0].pid)] == "" {
			t.Errorf("thread %d of process %d has slices but no name", tid, ss[0].pid)
		}
	}
	return byTID, names
}

// TestExportPerfetto: every kind of call a recording holds comes out as a
// slice on its thread's track, with its texts, its pairing and its names
// as the rest of nitro shows them, and hostile names come out escaped.
func TestExportPerfetto(t *testing.T) {
	ms := func(f float64) time.Time { return uitest.Epoch.Add(time.Duration(f * float64(time.Millisecond))) }
	worker := api.Process{PID: 42, TID: 43, PPID: 1, Comm: "sh-worker"}
	hostile := api.Process{PID: 100, TID: 100, PPID: 1, Comm: "\xff\xfe\u009b31m\u202eevil"}
	var evs []api.Syscall
	add := func(sc api.Syscall) *api.Syscall {
		sc.Seq = uint64(len(evs) + 1)
		evs = append(evs, sc)
		return &evs[len(evs)-1]
	}
	wait4 := uitest.Call{PID: 1, Name: "wait4", Nr: 61, Args: []api.Arg{{Raw: 0xffffffffffffffff, Text: "-1"}}, Ret: 77, RetText: "77"}
	add(wait4.Exit(0, ms(0.5))).Matched = false // its entry came before the recording
	open := uitest.Script()[0]
	add(open.Enter(0, ms(1)))
	add(open.Exit(0, ms(1.04)))
	read := uitest.Call{PID: 77, Name: "read", Args: []api.Arg{{Raw: 3, Text: "3"}, {Raw: 0x7ffd2000, Text: "0x7ffd2000"}}, Ret: 6, RetText: "6"}
	add(read.Enter(0, ms(2)))
	readExit := read.Exit(0, ms(2.5))
	readExit.Args = []api.Arg{{Raw: 3, Text: "3"}, {Raw: 0x7ffd2000, Text: `"root:x"`}} // filled in at the exit
	add(readExit)
	poll := uitest.Call{Name: "poll", Nr: 7, Args: []api.Arg{{Raw: 0, Text: "NULL"}}}.Enter(0, ms(3))
	poll.Process = worker
	add(poll)
	futex := uitest.Call{Name: "futex", Nr: 202, Args: []api.Arg{{Raw: 0x1000, Text: "0x1000"}}}.Enter(0, ms(5))
	futex.Process = worker
	add(futex) // poll's exit never came; futex's does not come before the end
	open32 := uitest.Call{PID: 57, Name: "open", Nr: 5, Args: []api.Arg{{Raw: 0x8049000, Text: `"/etc/hostname"`}}, Ret: 3, RetText: "3"}
	add(open32.Enter(0, ms(6))).ABI = api.I386
	add(open32.Exit(0, ms(6.01))).ABI = api.I386
	getpid := uitest.Call{Name: "getpid\x1b]0;pwn\x07", Nr: 39, Args: []api.Arg{{Raw: 0, Text: "\x1b[2J"}}, Ret: 100, RetText: "100"}
	for _, sc := range []api.Syscall{getpid.Enter(0, ms(7)), getpid.Exit(0, ms(7.5))} {
		sc.Process = hostile
		add(sc)
	}
	exit := uitest.Call{PID: 99, Name: "exit_group", Nr: 231, Args: []api.Arg{{Raw: 0, Text: "0"}}}.Enter(0, ms(8))
	exit.RetText = "?"
	add(exit)
	execve := uitest.Call{PID: 88, Name: "execve", Nr: 59, Args: []api.Arg{{Raw: 0x1000, Text: `"/bin/ls"`}}, RetText: "0"}
	add(execve.Enter(0, ms(9))).Process.Comm = "sh"
	add(execve.Exit(0, ms(9.5))).Process.Comm = "ls"
	sleep := uitest.Call{PID: 60, Name: "nanosleep", Nr: 35, Args: []api.Arg{{Raw: 0x1000, Text: "{tv_sec=1, tv_nsec=0}"}}}
	add(sleep.Enter(0, ms(10)))
	lost := uitest.Call{PID: 60, Name: "read", Args: []api.Arg{{Raw: 0, Text: "0"}}, Ret: 1, RetText: "1"}.Exit(0, ms(11))
	add(lost).Matched = false // the back end saw neither nanosleep's exit nor this read's entry

	evs2, stderr := exportPerfetto(t, recordStream(t, evs))
	if stderr != "" {
		t.Errorf("stderr %q", stderr)
	}
	tracks, names := checkTracks(t, evs2)
	one := func(tid int, i int) traced {
		t.Helper()
		if len(tracks[tid]) <= i {
			t.Fatalf("thread %d has %d slices, want more than %d", tid, len(tracks[tid]), i)
		}
		return tracks[tid][i]
	}
	call := func(e traced) string { return str(e.args["call"]) }
	argTexts := func(e traced) []string {
		var out []string
		for _, a := range e.args["args"].([]any) {
			out = append(out, a.(string))
		}
		return out
	}

	if w := one(1, 0); w.ph != "X" || w.ts != 0 || w.name != "wait4" || call(w) != "<... wait4 resumed>) = 77" {
		t.Errorf("an exit whose entry came before the recording: %+v, want X from the start", w)
	}
	o := one(77, 0)
	if o.ph != "X" || o.name != "openat" || o.dur != 40000 || o.pid != 77 ||
		call(o) != `openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3` || str(o.args["ret"]) != "3" ||
		!slices.Equal(argTexts(o), []string{"AT_FDCWD", `"/etc/passwd"`, "O_RDONLY"}) || o.args["seq"] != json.Number("2") {
		t.Errorf("openat: %+v", o)
	}
	if r := one(77, 1); r.dur != 500000 || r.ts-o.ts != 1000000 || argTexts(r)[1] != `"root:x"` || call(r) != `read(3, "root:x") = 6` {
		t.Errorf("read, with the buffer its exit filled in: %+v", r)
	}
	if p := one(43, 0); p.ph != "X" || p.pid != 42 || p.dur != 2000000 || call(p) != "poll(NULL <unfinished ...>" || p.args["ret"] != nil {
		t.Errorf("an entry its thread left without an exit: %+v, want X up to the next entry", p)
	}
	if f := one(43, 1); f.ph != "B" || call(f) != "futex(0x1000 <unfinished ...>" {
		t.Errorf("a call in flight at the end: %+v, want B", f)
	}
	if o32 := one(57, 0); o32.name != "i386:open" || call(o32) != `i386:open("/etc/hostname") = 3` || o32.dur != 10000 {
		t.Errorf("a 32-bit call: %+v", o32)
	}
	if e := one(99, 0); e.ph != "B" || e.name != "exit_group" || call(e) != "exit_group(0) = ?" || e.args["ret"] != "?" {
		t.Errorf("exit_group: %+v, want a B that did not end", e)
	}
	if h := one(100, 0); h.name != `getpid\x1b]0;pwn\x07` || argTexts(h)[0] != `\x1b[2J` {
		t.Errorf("a broken back end's raw texts: %+v, want them escaped", h)
	}
	if x := one(88, 0); x.name != "execve" || x.dur != 500000 {
		t.Errorf("execve: %+v", x)
	}
	if s, r := one(60, 0), one(60, 1); s.dur != 1000000 || call(s) != "nanosleep({tv_sec=1, tv_nsec=0} <unfinished ...>" ||
		r.ts != s.end() || r.dur != 0 || call(r) != "<... read resumed>) = 1" {
		t.Errorf("an exit that is not its thread's open call's: %+v and %+v, want them apart", s, r)
	}
	wantNames := map[string]string{
		"thread 1": "init", "process 1": "init", "thread 77": "cat", "process 77": "cat",
		"thread 43": "sh-worker", "process 42": "sh", // the leader's name, from the recording's process table
		"thread 100": escape.String(hostile.Comm), "process 99": escape.String(uitest.Hostile),
		"thread 88": "ls", "process 88": "ls", // the name after the execve
	}
	for who, want := range wantNames {
		if names[who] != want {
			t.Errorf("%s is named %q, want %q", who, names[who], want)
		}
	}
	if n := len(evs2) - len(names); n != 13 {
		t.Errorf("%d slices for 13 calls", n)
	}
}

// TestExportPerfettoBlocks: calls whose entry and exit lie in different
// blocks still pair, and every call of a long recording is one slice.
func TestExportPerfettoBlocks(t *testing.T) {
	const n = 9000
	evs := uitest.Stream(2, n) // opens with an exit, so that the 4096-event blocks cut calls in two
	evs2, _ := exportPerfetto(t, recordStream(t, evs))
	tracks, _ := checkTracks(t, evs2)
	var x, b int
	for _, ss := range tracks {
		for i, s := range ss {
			switch {
			case s.ph == "B":
				b++
			case s.args["seq"] == json.Number("2"): // the exit whose entry came before
				x++
			case s.dur != int64(time.Millisecond) || !strings.HasSuffix(str(s.args["call"]), " = "+str(s.args["ret"])):
				t.Fatalf("slice %d of thread %d: %+v, want a whole call of 1 ms", i, s.tid, s)
			default:
				x++
			}
		}
	}
	if x != n/2 || b != 1 {
		t.Errorf("%d X and %d B slices, want %d and 1", x, b, n/2)
	}
}

// TestExportDamaged: a recording whose recorder was killed exports what it
// holds, and says it is truncated; what is no recording is refused.
func TestExportDamaged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cut.nitro")
	var buf bytes.Buffer
	w, err := record.NewWriter(&buf, record.Meta{Domain: "lab", Start: uitest.Epoch})
	if err != nil {
		t.Fatal(err)
	}
	evs := uitest.Stream(1, 10)
	for i := range evs {
		if err := w.Event(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil { // no Close: no index
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	evs2, stderr := exportPerfetto(t, path)
	if !strings.Contains(stderr, "truncated") {
		t.Errorf("stderr %q, want it to say the recording is truncated", stderr)
	}
	tracks, _ := checkTracks(t, evs2)
	if n := len(tracks[77]) + len(tracks[42]) + len(tracks[99]); n != 5 {
		t.Errorf("%d slices, want 5", n)
	}

	var out bytes.Buffer
	if err := Export(context.Background(), []string{"--perfetto", filepath.Join(t.TempDir(), "none.nitro")}, &out, &out); err == nil {
		t.Error("a missing file exported")
	}
	if err := Export(context.Background(), []string{path}, &out, &out); !errors.Is(err, ErrUsage) {
		t.Errorf("export without a format: %v, want a usage error", err)
	}
}
