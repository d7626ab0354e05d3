package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"nitro/api"
	"nitro/triage"
)

// suspicious are calls of a guest up to no good: a web server starting a
// shell (a warning), then a module load (critical).
func suspicious() []api.Syscall {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var evs []api.Syscall
	call := func(p api.Process, name string, ret int64, args ...api.Arg) {
		n := uint64(len(evs))
		enter := api.Syscall{Seq: n + 1, Time: at.Add(time.Duration(n) * time.Millisecond), Name: name, Process: p, Args: args}
		exit := enter
		exit.Seq, exit.Direction, exit.Ret, exit.Matched, exit.RetText = n+2, api.Exit, ret, true, "0"
		evs = append(evs, enter, exit)
	}
	web := api.Process{PID: 10, TID: 10, PPID: 1, Comm: "nginx"}
	call(web, "getpid", 10)
	call(api.Process{PID: 11, TID: 11, PPID: 10, Comm: "sh"}, "execve", 0,
		api.Arg{Text: `"/bin/sh"`}, api.Arg{Text: `["sh", "-c", "id"]`}, api.Arg{Text: "0x7ffc /* 3 vars */"})
	call(api.Process{PID: 12, TID: 12, PPID: 1, Comm: "insmod"}, "finit_module", 0,
		api.Arg{Raw: 3, Text: "3"}, api.Arg{Text: `""`}, api.Arg{Text: "0"})
	return evs
}

func runTriage(t *testing.T, h api.Hypervisor, args ...string) ([]triage.Finding, error) {
	t.Helper()
	var out bytes.Buffer
	err := Triage(context.Background(), h, args, &out)
	var found []triage.Finding
	dec := json.NewDecoder(&out)
	for dec.More() {
		var f triage.Finding // its severity a name: a number does not decode
		if err := dec.Decode(&f); err != nil {
			t.Fatalf("output %q: %v", out.String(), err)
		}
		found = append(found, f)
	}
	return found, err
}

// TestTriage runs nitro triage on a guest and on its recording: the same
// findings, most severe first, with evidence by seq; the exit status
// follows --severity.
func TestTriage(t *testing.T) {
	evs := suspicious()
	for _, src := range []struct {
		name string
		run  func(args ...string) ([]triage.Finding, error)
	}{
		{"live", func(args ...string) ([]triage.Finding, error) {
			return runTriage(t, fakeGuest(evs), append(args, "lab")...)
		}},
		{"from", func(args ...string) ([]triage.Finding, error) {
			path := recordStream(t, evs)
			return runTriage(t, nil, append(args, "--from", path)...)
		}},
	} {
		t.Run(src.name, func(t *testing.T) {
			found, err := src.run()
			if !errors.Is(err, ErrFound) {
				t.Errorf("error %v, want ErrFound", err)
			}
			if len(found) != 2 || found[0].Rule != "kernel_module_load" || found[1].Rule != "shell_spawned" {
				t.Fatalf("findings %+v", found)
			}
			if ev := found[1].Evidence; len(ev) != 1 || ev[0].Seq != 4 || !strings.HasPrefix(ev[0].Text, `execve("/bin/sh"`) {
				t.Errorf("evidence %+v, want the execve's exit, seq 4", ev)
			}
			if _, err := src.run("--severity", "emergency"); err != nil {
				t.Errorf("nothing at emergency: error %v", err)
			}
		})
	}
}

// TestTriageLab: the shipped recording of the plain lab guest has no
// findings, and exits 0.
func TestTriageLab(t *testing.T) {
	found, err := runTriage(t, nil, "--from", "../examples/lab.nitro", "--severity", "debug")
	if err != nil || len(found) != 0 {
		t.Errorf("findings %+v, error %v", found, err)
	}
}

// TestTriageRulesFile: --rules adds to the built-in set, and a mistake in
// it is refused before anything runs, naming the file and line.
func TestTriageRulesFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, []byte(`[{"rule": "any_getpid", "severity": "debug", "why": "test",
  "condition": "evt.type == 'getpid'"}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	found, err := runTriage(t, fakeGuest(suspicious()), "--rules", good, "--severity", "critical", "lab")
	if !errors.Is(err, ErrFound) || len(found) != 3 || found[2].Rule != "any_getpid" {
		t.Errorf("findings %+v, error %v", found, err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("[\n  {\"rule\": \"x\", \"severity\": \"error\", \"why\": \"y\",\n   \"condition\": \"evt.type == \"}\n]"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = runTriage(t, nil, "--rules", bad, "lab")
	if err == nil || !strings.HasPrefix(err.Error(), bad+":3: condition:") {
		t.Errorf("error %v, want it at %s:3", err, bad)
	}
	if _, err := runTriage(t, nil, "--severity", "dire", "lab"); err == nil || !strings.Contains(err.Error(), "unknown severity") {
		t.Errorf("--severity dire: error %v", err)
	}
}

// TestActivity prints the views of a guest's calls as JSON lines.
func TestActivity(t *testing.T) {
	var out bytes.Buffer
	if err := Activity(context.Background(), fakeGuest(suspicious()), []string{"exec", "lab"}, &out); err != nil {
		t.Fatal(err)
	}
	var roots []triage.ExecNode
	dec := json.NewDecoder(&out)
	for dec.More() {
		var n triage.ExecNode
		if err := dec.Decode(&n); err != nil {
			t.Fatal(err)
		}
		roots = append(roots, n)
	}
	if len(roots) != 2 || roots[0].PID != 10 || len(roots[0].Children) != 1 || roots[0].Children[0].Execs[0].Exe != "/bin/sh" {
		t.Errorf("exec lineage %+v, want nginx (10) with sh under it, and insmod", roots)
	}
	if err := Activity(context.Background(), nil, []string{"disks", "lab"}, &out); !errors.Is(err, ErrUsage) {
		t.Errorf("an unknown view: error %v", err)
	}
}
