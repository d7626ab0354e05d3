package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"nitro/internal/lab"
	"nitro/triage"
)

// sus is the suspicious lab guest: the light workload, and a round of
// lab/sus/sus.c's planted behaviours every few seconds beside it.
var sus = &onDemand{Guest: lab.Guest{Name: "nitro-lab-sus", Kernel: "6.1", VCPUs: 1, Workload: "sus", Vendor: "AMD"}}

func init() { onDemandGuests = append(onDemandGuests, sus) }

// susComms are the names of nitro-sus's processes: the planted ones, and
// the one its kernel module hides.
var susComms = []string{"nitro-sus", "sh", "memfd:sus", "nitro-sus-drop", "nitro-sus-del", "nitro-hidden"}

// runVerdict runs nitro with args, a command whose exit status 2 is a
// verdict (triage, ps --hidden), and returns its output and exit status;
// status 1, a failure, fails the test.
func runVerdict(t *testing.T, args ...string) ([]byte, int) {
	t.Helper()
	cmd := exec.Command(nitroBin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code == 1 {
		t.Fatalf("nitro %v failed: %s", args, stderr.String())
	}
	return out, code
}

// runTriage runs nitro triage on domain and returns its findings and
// exit status.
func runTriage(t *testing.T, domain string, args ...string) ([]triage.Finding, int) {
	t.Helper()
	out, code := runVerdict(t, append(append([]string{"-c", lab.URI, "triage"}, args...), domain)...)
	var found []triage.Finding
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var f triage.Finding
		if err := dec.Decode(&f); err != nil {
			t.Fatalf("output %q: %v", out, err)
		}
		found = append(found, f)
	}
	return found, code
}

// TestTriageSus: a minute of nitro triage on the suspicious guest reports
// every planted behaviour, each with its evidence calls, and the process
// the guest's kernel module hides, with the calls it makes; all of them
// nitro-sus's (the light workload beside it has none), and exits 2.
func TestTriageSus(t *testing.T) {
	g := sus.up(t)
	pid := hiddenPID(t, g)
	found, code := runTriage(t, g.Name, "--duration", "60s")
	if code != 2 {
		t.Errorf("exit status %d, want 2: findings at or above warning", code)
	}
	// What an evidence call of each rule must show of the planted call.
	shows := map[string]string{
		"shell_spawned": `execve("/bin/sh"`, "sensitive_file_write": `"/etc/passwd"`, "kernel_module_load": "finit_module(-1",
		"ptrace_attach": "ptrace(16, ", "fileless_exec": `execveat(3, ""`, "exec_from_temp": "/tmp/nitro-sus-",
		"exec_deleted": `execveat(3, ""`, "setuid_root": "setuid(0)", "capset_non_root": "capset(",
		"unlink_own_exe": `unlink("/tmp/nitro-sus-drop")`, "outbound_connect": `inet_addr("192.0.2.1")`,
		"mass_rename": `rename("/tmp/nitro-sus-`, "mass_write": `"/tmp/nitro-sus-w`,
	}
	for _, r := range triage.Builtin().Rules() {
		i := slices.IndexFunc(found, func(f triage.Finding) bool { return f.Rule == r.Name })
		if i < 0 {
			t.Errorf("no %s finding", r.Name)
			continue
		}
		ev := found[i].Evidence
		if !slices.ContainsFunc(ev, func(e triage.Evidence) bool { return e.Seq != 0 && strings.Contains(e.Text, shows[r.Name]) }) {
			t.Errorf("%s: evidence %+v, want a call showing %s", r.Name, ev, shows[r.Name])
		}
	}
	i := slices.IndexFunc(found, func(f triage.Finding) bool { return f.Rule == "hidden_process" })
	if i < 0 {
		t.Errorf("no hidden_process finding")
	} else if f := found[i]; f.PID != pid || f.Comm != "nitro-hidden" || f.Severity != triage.Critical ||
		!strings.Contains(f.Why, "not in the task list") ||
		!slices.ContainsFunc(f.Evidence, func(e triage.Evidence) bool { return e.TID == pid && strings.HasPrefix(e.Text, "nanosleep(") }) {
		t.Errorf("hidden_process finding %+v; want pid %d nitro-hidden, critical, with its nanosleep calls", f, pid)
	}
	for _, f := range found {
		if !slices.Contains(susComms, f.Comm) {
			t.Errorf("a finding on a process nitro-sus did not start: %+v", f)
		}
	}
	requireRunning(t, g)
}

// TestTriagePlainLab: the plain lab guest, the same light workload with
// its shell under strace, has no findings at all.
func TestTriagePlainLab(t *testing.T) {
	lab.RequireRoot(t)
	g := lab.Default
	found, code := runTriage(t, g.Name, "--duration", "30s", "--severity", "debug")
	if len(found) != 0 || code != 0 {
		t.Errorf("exit status %d, findings on the plain lab guest: %+v", code, found)
	}
	requireRunning(t, g)
}

// TestTriageTUI: in the TUI on the suspicious guest, the status bar counts
// findings, t lists them, and enter on one selects its call in the syscall
// pane.
func TestTriageTUI(t *testing.T) {
	g := sus.up(t)
	tm := startTmux(t, nitroBin+" -c "+lab.URI+" --theme none --domain "+g.Name)
	tm.waitFor(`findings [1-9]\d* \(`, 3*time.Minute)
	tm.keys("t")
	tm.waitFor(`Findings [1-9]\d* \(`, 10*time.Second)
	// The first finding, the most severe, once it has a call to jump to
	// (a hidden process's finding may have none yet).
	tm.waitFor(`(?m)^Findings .*\n(CRITICAL|ERROR|WARNING|NOTICE)\s+\S+\s+\d+ .*\n\s+#\d+ `, 10*time.Second)
	tm.keys("Enter") // its first call
	s := tm.waitFor(`call #\d+`, 10*time.Second)
	if !strings.Contains(s, "Syscalls") || !strings.Contains(s, "scrolled") {
		t.Errorf("the syscall pane is not back on top, on the call:\n%s", s)
	}
	tm.keys("q")
	tm.gone(30 * time.Second)
	requireRunning(t, g)
}
