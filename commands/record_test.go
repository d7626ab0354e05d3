package commands

import (
	"bytes"
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"nitro/api"
	"nitro/internal/traceformat"
	"nitro/record"
	"nitro/ui/uitest"
)

// recordStream records evs from a fake guest with nitro record's code and
// returns the recording's path.
func recordStream(t *testing.T, evs []api.Syscall, args ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "lab.nitro")
	var stderr bytes.Buffer
	if err := Record(context.Background(), fakeGuest(evs), append(append([]string{"-o", path}, args...), "lab"), &stderr); err != nil {
		t.Fatalf("record: %v (%s)", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "recorded") {
		t.Errorf("record said %q", stderr.String())
	}
	return path
}

// fakeGuest is a hypervisor with one domain, "lab", whose session delivers
// evs in batches of 100 and ends.
func fakeGuest(evs []api.Syscall) api.Hypervisor {
	h := uitest.NewHypervisor()
	s := uitest.NewSession()
	h.Add(api.Domain{Name: "lab", State: "running"}, s)
	go func() {
		for i := 0; i < len(evs); i += 100 {
			s.Send(evs[i:min(i+100, len(evs))])
		}
		s.End()
	}()
	return h
}

// want is what traceformat writes for the events that pass keep.
func want(t *testing.T, format string, evs []api.Syscall, keep func(*api.Syscall) bool) string {
	var b bytes.Buffer
	w, err := traceformat.New(format, &b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		if keep(&evs[i]) {
			if err := w.Write(&evs[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// local is evs with their times as a replay gives them back: the same
// instants, in the local zone.
func local(evs []api.Syscall) []api.Syscall {
	out := append([]api.Syscall(nil), evs...)
	for i := range out {
		out[i].Time = time.Unix(0, out[i].Time.UnixNano())
	}
	return out
}

// TestTraceFrom: a recording made by nitro record, re-emitted by trace
// --from, reads as trace printed the same calls live, in both forms and
// with the filters.
func TestTraceFrom(t *testing.T) {
	evs := uitest.Stream(1, 5000)
	path := recordStream(t, evs)
	all := func(*api.Syscall) bool { return true }
	for _, c := range []struct {
		args []string
		keep func(*api.Syscall) bool
	}{
		{[]string{"--format", "json"}, all},
		{[]string{"--format", "text"}, all},
		{[]string{"--format", "text", "--pid", "42"}, func(sc *api.Syscall) bool { return sc.Process.PID == 42 }},
		{[]string{"--comm", "cat", "--syscalls", "openat,close"}, func(sc *api.Syscall) bool {
			return sc.Process.Comm == "cat" && (sc.Name == "openat" || sc.Name == "close")
		}},
	} {
		var out bytes.Buffer
		args := append(append([]string{"--from", path}, c.args...), "lab")
		if err := Trace(context.Background(), nil, args, &out); err != nil {
			t.Fatalf("trace %q: %v", args, err)
		}
		format := "json"
		if len(c.args) > 1 && c.args[1] == "text" {
			format = "text"
		}
		if w := want(t, format, local(evs), c.keep); out.String() != w {
			t.Errorf("trace %q: %d bytes differ from traceformat's %d", args, out.Len(), len(w))
		}
	}
	var out bytes.Buffer
	if err := Trace(context.Background(), nil, []string{"--from", path, "--count", "7"}, &out); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\n"); n != 7 {
		t.Errorf("--count 7 printed %d lines", n)
	}
	if err := Trace(context.Background(), nil, []string{"--from", path, "--inject", "openat:error=ENOENT"}, &out); err == nil {
		t.Error("--inject on a recording did not fail")
	}
}

// TestTraceRecord: trace --record records the calls it prints, and trace
// --from prints them again as they were printed.
func TestTraceRecord(t *testing.T) {
	evs := uitest.Stream(1, 3000)
	path := filepath.Join(t.TempDir(), "traced.nitro")
	var live, again bytes.Buffer
	if err := Trace(context.Background(), fakeGuest(evs), []string{"--format", "text", "--comm", "cat", "--record", path, "lab"}, &live); err != nil {
		t.Fatal(err)
	}
	keep := func(sc *api.Syscall) bool { return sc.Process.Comm == "cat" }
	if w := want(t, "text", evs, keep); live.String() != w || w == "" {
		t.Fatalf("trace --record printed %d bytes, not traceformat's %d", live.Len(), len(w))
	}
	if err := Trace(context.Background(), nil, []string{"--from", path, "--format", "text"}, &again); err != nil {
		t.Fatal(err)
	}
	if again.String() != live.String() {
		t.Errorf("trace --from printed:\n%s\nthe live trace:\n%s", again.String(), live.String())
	}
	if err := Trace(context.Background(), nil, []string{"--from", path, "--record", path}, &again); err == nil {
		t.Error("--record with --from did not fail")
	}
}

// TestRecordFilters: record keeps only the calls its filters pass, and
// says which in the header.
func TestRecordFilters(t *testing.T) {
	evs := uitest.Stream(1, 1200)
	path := recordStream(t, evs, "--comm", "sh")
	var out bytes.Buffer
	if err := Trace(context.Background(), nil, []string{"--from", path, "--format", "text"}, &out); err != nil {
		t.Fatal(err)
	}
	keep := func(sc *api.Syscall) bool { return sc.Process.Comm == "sh" }
	if w := want(t, "text", local(evs), keep); out.String() != w {
		t.Errorf("recorded with --comm sh:\n%s\nwant\n%s", out.String(), w)
	}
	f, err := record.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if m := f.Meta; m.Domain != "lab" || m.Kernel != "Linux 6.1.0-28-amd64" || m.Listener != "gdbstub" || m.Filter != `--comm "sh"` || f.Damage != nil {
		t.Errorf("meta %+v, damage %v", m, f.Damage)
	}
	blk, err := f.Block(0)
	if err != nil {
		t.Fatal(err)
	}
	if len(blk.Snapshots) == 0 || !reflect.DeepEqual(blk.Snapshots[0].Procs, uitest.Procs) {
		t.Errorf("the recording opens with processes %+v", blk.Snapshots)
	}
}

func TestSummary(t *testing.T) {
	at := uitest.Epoch
	call := func(pid int, name string, d time.Duration, errno string, ms int) []api.Syscall {
		c := uitest.Call{PID: pid, Name: name, Errno: errno}
		if errno != "" {
			c.Ret = -2
		}
		start := at.Add(time.Duration(ms) * time.Millisecond)
		return []api.Syscall{c.Enter(0, start), c.Exit(0, start.Add(d))}
	}
	var evs []api.Syscall
	evs = append(evs, call(1, "openat", 30*time.Microsecond, "", 0)...)
	evs = append(evs, call(1, "openat", 10*time.Microsecond, "ENOENT", 1)...)
	evs = append(evs, call(2, "read", 100*time.Microsecond, "", 2)...)
	evs = append(evs, call(2, "close", 0, "", 3)...)
	evs = append(evs, call(3, "write", 40*time.Microsecond, "", 4)...)
	exit := uitest.Call{PID: 3, Name: "exit_group"}.Enter(0, at.Add(5*time.Millisecond))
	exit.RetText = "?"
	evs = append(evs, exit)
	s := newSummary(new(bytes.Buffer))
	for i := range evs {
		evs[i].Seq = uint64(i + 1)
		if err := s.write(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	s.dst = &out
	if err := s.end(); err != nil {
		t.Fatal(err)
	}
	const table = `% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 55.56    0.000100         100         1           read
 22.22    0.000040          20         2         1 openat
 22.22    0.000040          40         1           write
  0.00    0.000000           0         1           close
------ ----------- ----------- --------- --------- ----------------
100.00    0.000180          36         5         1 total
`
	if out.String() != table {
		t.Errorf("summary:\n%s\nwant\n%s", out.String(), table)
	}
}
