package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
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
	"nitro/internal/syncbuf"
)

// sshHost is this machine as a "remote" host: an OpenSSH server of the
// test's own on a loopback port, which lets in one key made for the test.
type sshHost struct {
	sshd *exec.Cmd
	uri  string // qemu+ssh://root@127.0.0.1:PORT/system?keyfile=...&no_verify=1
}

// startSSH starts sshd for the rest of the test.
func startSSH(t testing.TB) *sshHost {
	t.Helper()
	sshdBin, err := exec.LookPath("sshd")
	if err != nil {
		sshdBin = "/usr/sbin/sshd"
	}
	if _, err := os.Stat(sshdBin); err != nil {
		t.Fatalf("no sshd (lab/deps.sh installs openssh-server): %v", err)
	}
	dir := t.TempDir()
	for _, key := range []string{"host", "client"} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, key)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
	}
	pub, err := os.ReadFile(filepath.Join(dir, "client.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0o600); err != nil {
		t.Fatal(err)
	}
	// A free port: sshd cannot take port 0 and say which it got.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	config := fmt.Sprintf(`ListenAddress 127.0.0.1
Port %d
HostKey %s/host
AuthorizedKeysFile %s/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
`, port, dir, dir)
	if err := os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil { // sshd's privilege separation directory
		t.Fatal(err)
	}
	sshd := exec.Command(sshdBin, "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	stderr, err := sshd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sshd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sshd.Process.Kill()
		sshd.Wait()
	})
	// sshd says when it listens; what it says after goes to the test's log.
	lines := bufio.NewScanner(stderr)
	for lines.Scan() {
		if strings.Contains(lines.Text(), "Server listening") {
			break
		}
		t.Log("sshd:", lines.Text())
	}
	go io.Copy(io.Discard, stderr)
	return &sshHost{sshd: sshd, uri: fmt.Sprintf("qemu+ssh://root@127.0.0.1:%d/system?keyfile=%s/client&no_verify=1", port, dir)}
}

// nitroArgs are nitro's arguments to reach the lab through the host.
func (h *sshHost) nitroArgs(args ...string) []string {
	return append([]string{"-c", h.uri, "--remote-nitro", nitroBin}, args...)
}

// TestRemoteDomainsAndGuest lists the lab guests through libvirt's remote
// driver, and reads a guest's processes and kernel symbols through a far
// nitro: the symbols are those a local nitro finds.
func TestRemoteDomainsAndGuest(t *testing.T) {
	lab.RequireRoot(t)
	h := startSSH(t)
	out := string(runNitro(t, h.nitroArgs("domains")...))
	for _, g := range guests {
		if !strings.Contains(out, g.Name) {
			t.Errorf("nitro domains through %s lacks %s:\n%s", h.uri, g.Name, out)
		}
	}
	g := lab.Default
	if ps := runNitro(t, h.nitroArgs("ps", "--json", g.Name)...); !bytes.Contains(ps, []byte(`"comm":"init"`)) {
		t.Errorf("nitro ps through %s:\n%s", h.uri, ps)
	}
	local := runNitro(t, "-c", lab.URI, "symbols", g.Name)
	if remote := runNitro(t, h.nitroArgs("symbols", g.Name)...); !bytes.Equal(remote, local) || len(local) == 0 {
		t.Errorf("nitro symbols through %s: %d bytes, locally %d, not the same", h.uri, len(remote), len(local))
	}
}

// TestRemoteTrace traces nitro-probe through a far nitro over SSH and
// checks its whole runs as TestTraceProbe does.
func TestRemoteTrace(t *testing.T) {
	lab.RequireRoot(t)
	h := startSSH(t)
	g := lab.Default
	traceProbeThrough(t, g, h.nitroArgs("trace", "--format", "json", "--comm", "nitro-probe", "--count", "48", "--duration", "3m", g.Name)...)
}

// traceProbeThrough runs nitro with args, a trace of nitro-probe on g, and
// checks its whole runs as TestTraceProbe does.
func traceProbeThrough(t *testing.T, g lab.Guest, args ...string) {
	t.Helper()
	events := traceJSON(t, args...)
	requireRunning(t, g)
	runs := probeRuns(events)
	for _, r := range runs {
		checkProbeRun(t, g, r.pid, r.enters, r.exits)
	}
	if len(runs) == 0 {
		t.Fatalf("no whole run of nitro-probe in %d events", len(events))
	}
	for _, e := range events {
		if e.Comm != "nitro-probe" {
			t.Errorf("a call of %q came through --comm nitro-probe", e.Comm)
		}
	}
}

// TestRemoteTUIEditReturn is TestTUIEditReturn with the TUI attached
// through a far nitro: a break at openat's exit, the probe's call held,
// its return edited to -ENOENT, the break cleared and the call continued.
func TestRemoteTUIEditReturn(t *testing.T) {
	lab.RequireRoot(t)
	h := startSSH(t)
	g := lab.Newer
	editReturn(t, g, openatTUIWith(t, g, "-c '"+h.uri+"' --remote-nitro "+nitroBin))
}

// TestRemoteConnectionKilled kills the SSH connection (the sshd child
// serving it) under a remote trace: the local nitro says the connection
// ended and that the guest runs on, and it does, with no breakpoint.
func TestRemoteConnectionKilled(t *testing.T) {
	lab.RequireRoot(t)
	h := startSSH(t)
	g := lab.Default
	dom := labDomain(t, g)
	cmd := exec.Command(nitroBin, h.nitroArgs("trace", "--format", "json", g.Name)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncbuf.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	for n := 0; n < 40 && lines.Scan(); n++ {
	}
	go io.Copy(io.Discard, out)
	syscall.Kill(childNamed(t, h.sshd.Process.Pid, "sshd"), syscall.SIGKILL)
	err = cmd.Wait()
	if err == nil {
		t.Error("nitro trace ended cleanly when its connection was killed")
	}
	msg := stderr.String()
	if !strings.Contains(msg, "lost the connection to the remote nitro: the connection to 127.0.0.1 dropped") ||
		!strings.Contains(msg, "the guest runs on") {
		t.Errorf("nitro said:\n%s", msg)
	}
	t.Logf("nitro said: %s", strings.TrimSpace(msg))
	t.Logf("the guest ran free %v after the connection was killed", waitDetached(t, dom))
	waitUnlocked(t, g)
	requireRunning(t, g)
}

// TestRemoteTUIReattach kills the SSH connection (the sshd child serving
// it) under the TUI attached through a far nitro: the TUI stays, says the
// connection dropped and the guest runs on, which it does with no
// breakpoint; the re-attach key starts a new session, in which the probe's
// next run, as the guest's console names it, shows.
func TestRemoteTUIReattach(t *testing.T) {
	lab.RequireRoot(t)
	h := startSSH(t)
	g := lab.Default
	dom := labDomain(t, g)
	tm := startTmux(t, nitroBin+" -c '"+h.uri+"' --remote-nitro "+nitroBin+" --theme none --domain "+g.Name)
	tm.waitFor(`Syscalls \d+`, time.Minute)
	tm.keys("/")
	tm.waitFor(`(?m)^/`, 10*time.Second)
	tm.keys("comm:nitro-probe", "Enter")
	tm.waitFor(`(?m)^\S+\s+\d+\s+\d+\s+nitro-probe\s+\w+\(`, tracedIteration)

	syscall.Kill(childNamed(t, h.sshd.Process.Pid, "sshd"), syscall.SIGKILL)
	s := tm.waitFor(`lost the connection to the remote nitro: the connection to 127\.0\.0\.1 dropped; the guest runs on there, detached`, 30*time.Second)
	if !strings.Contains(s, "r re-attach") || !strings.Contains(s, "Syscalls") {
		t.Errorf("the screen after the drop shows no re-attach key, or not the calls:\n%s", s)
	}
	t.Logf("the guest ran free %v after the connection was killed", waitDetached(t, dom))
	waitUnlocked(t, g)
	requireRunning(t, g)

	tm.keys("r")
	tm.waitFor(`re-attached to `+g.Name, time.Minute)
	start, err := g.SerialSize()
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := g.WaitSerial(probeDone, start, tracedIteration)
	if err != nil {
		t.Fatal(err)
	}
	tm.waitFor(`(?m)^\S+\s+\d+\s+`+m[1]+`\s+nitro-probe\s+getppid\(\) = 1\s*$`, time.Minute)
	tm.keys("q")
	waitDetached(t, dom)
	waitUnlocked(t, g)
}

// TestRemoteSeveralHosts lists the lab guests of three -c at once: this
// host, this host again as a remote one through sshd, and a host whose SSH
// port is closed. nitro domains and the TUI's list group the guests by
// host and name the host that did not answer; a trace through the remote
// one, named HOST/NAME, sees the probe's runs.
func TestRemoteSeveralHosts(t *testing.T) {
	lab.RequireRoot(t)
	h := startSSH(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := fmt.Sprintf("qemu+ssh://root@127.0.0.1:%d/system?no_verify=1", l.Addr().(*net.TCPAddr).Port)
	l.Close() // nothing listens there now
	args := []string{"-c", lab.URI, "-c", h.uri, "-c", dead, "--remote-nitro", nitroBin}

	cmd := exec.Command(nitroBin, append(args, "domains")...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err == nil || !strings.Contains(stderr.String(), dead+" did not answer") {
		t.Errorf("nitro domains with %s down: %v\n%s", dead, err, stderr.String())
	}
	for _, host := range []string{lab.URI, h.uri} {
		for _, g := range guests {
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(host) + `\s+` + g.Name + `\s+running\s`).Match(out) {
				t.Errorf("nitro domains lists no %s running on %s:\n%s", g.Name, host, out)
			}
		}
	}

	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "'" + a + "'"
	}
	tm := startTmux(t, nitroBin+" "+strings.Join(quoted, " ")+" --theme none")
	screen := tm.waitFor(`did not answer`, time.Minute)
	groups := hostGroups(screen, []string{lab.URI, h.uri, dead})
	for _, host := range []string{lab.URI, h.uri} {
		for _, g := range guests {
			if !regexp.MustCompile(`(?m)^>?\s*` + g.Name + `\s+running\s`).MatchString(groups[host]) {
				t.Errorf("the list shows no %s running under %s:\n%s", g.Name, host, screen)
			}
		}
	}
	if !strings.Contains(groups[dead], "did not answer") {
		t.Errorf("the list does not show %s as not answering:\n%s", dead, screen)
	}
	tm.keys("q")

	g := lab.Default
	traceProbeThrough(t, g, append(args, "trace", "--format", "json", "--comm", "nitro-probe", "--count", "48", "--duration", "3m", h.uri+"/"+g.Name)...)
}

// hostGroups splits the domain list's screen at the lines naming hosts:
// the lines under each host, by host.
func hostGroups(screen string, hosts []string) map[string]string {
	groups := map[string]string{}
	var cur string
	for line := range strings.Lines(screen) {
		if i := slices.Index(hosts, strings.TrimSpace(line)); i >= 0 {
			cur = hosts[i]
			continue
		}
		if cur != "" {
			groups[cur] += line
		}
	}
	return groups
}

// TestRemoteKernelFiles gives --symbols and --profile to a nitro that
// reads the guest through a far one: the far nitro uses the files' contents
// it was sent. The symbols file is the guest's table with __x64_sys_getppid
// renamed, and the far nitro prints the new name at the address the guest's
// own /proc/kallsyms gives the old; the profile names another kernel, which
// the far nitro prints back.
func TestRemoteKernelFiles(t *testing.T) {
	lab.RequireRoot(t)
	h := startSSH(t)
	g := lab.Default
	log, err := g.Serial()
	if err != nil {
		t.Fatal(err)
	}
	var addr string
	for _, l := range kallsymsLine.FindAllStringSubmatch(log, -1) {
		if l[3] == "__x64_sys_getppid" {
			addr = l[1]
		}
	}
	if addr == "" {
		t.Fatal("the guest printed no kallsyms line for __x64_sys_getppid")
	}
	dir := t.TempDir()
	oldName := regexp.MustCompile(`(?m) __x64_sys_getppid$`)
	syms := oldName.ReplaceAll(runNitro(t, "-c", lab.URI, "symbols", g.Name), []byte(" nitro_sent_getppid"))
	profile := regexp.MustCompile(`"kernel":\s*"[^"]*"`).ReplaceAll(runNitro(t, "-c", lab.URI, "profile", g.Name), []byte(`"kernel":"Linux version 0.0.0-sent-by-the-test"`))
	if !bytes.Contains(profile, []byte("0.0.0-sent-by-the-test")) {
		t.Fatalf("no kernel field in nitro profile's output to change:\n%.300s", profile)
	}
	symsFile, profileFile := filepath.Join(dir, "kallsyms"), filepath.Join(dir, "profile.json")
	if err := os.WriteFile(symsFile, syms, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(profileFile, profile, 0o600); err != nil {
		t.Fatal(err)
	}
	far := runNitro(t, h.nitroArgs("--symbols", symsFile, "--profile", profileFile, "symbols", g.Name)...)
	renamed := regexp.MustCompile(`(?m)^` + addr + ` \w nitro_sent_getppid$`)
	if !renamed.Match(far) || oldName.Match(far) {
		t.Errorf("the far nitro's symbols do not have __x64_sys_getppid (%s) renamed as sent", addr)
	}
	if far := runNitro(t, h.nitroArgs("--symbols", symsFile, "--profile", profileFile, "profile", g.Name)...); !bytes.Contains(far, []byte("0.0.0-sent-by-the-test")) {
		t.Errorf("the far nitro's profile is not the one sent:\n%.300s", far)
	}
}

// BenchmarkRemoteVsLocal measures what the remote path costs: the calls per
// second `nitro trace` prints tracing every call of the busy guest through
// a far nitro over SSH (this host as the far one), against the same trace
// run locally, in alternating rounds (the host's load moves the rate from
// one second to the next); and the bytes per call on the link, as sshd
// wrote them to its socket (compressed, SSH's framing and the protocol's
// other lines included). Goal: remote/local >= 0.9.
func BenchmarkRemoteVsLocal(b *testing.B) {
	const rounds, round = 3, 5 * time.Second
	g := busyGuest(b)
	h := startSSH(b)
	var local, remote tally
	var wire uint64
	var wired int
	for b.Loop() {
		for range rounds {
			n, took, _, _ := traceRound(b, round, nil, "-c", lab.URI, "trace", "--format", "json", g.Name)
			local.calls, local.took = local.calls+n, local.took+took
			n, took, w, wn := traceRound(b, round, h.sshd, h.nitroArgs("trace", "--format", "json", g.Name)...)
			remote.calls, remote.took, wire, wired = remote.calls+n, remote.took+took, wire+w, wired+wn
		}
	}
	b.ReportMetric(local.rate(), "local-events/s")
	b.ReportMetric(remote.rate(), "remote-events/s")
	b.ReportMetric(remote.rate()/local.rate(), "remote/local")
	b.ReportMetric(float64(wire)/float64(wired), "wire-bytes/event")
}

// traceRound runs nitro with args, a trace of round after it attached
// (--duration is added), and counts its lines from its first to its last;
// with sshd, it also returns what sshd's child serving the connection wrote
// by a late line, and the lines by then.
func traceRound(b *testing.B, round time.Duration, sshd *exec.Cmd, args ...string) (calls int, took time.Duration, wire uint64, wired int) {
	b.Helper()
	args = append(args[:len(args)-1:len(args)-1], "--duration", round.String(), args[len(args)-1])
	cmd := exec.Command(nitroBin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	var stderr syncbuf.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	lines.Buffer(nil, 1<<20)
	if !lines.Scan() {
		b.Fatalf("nitro %s printed nothing: %s", strings.Join(args, " "), stderr.String())
	}
	start := time.Now()
	for lines.Scan() {
		calls++
		took = time.Since(start)
		if sshd != nil && calls%256 == 0 { // the child is gone once the trace ends
			if w, ok := written(sshd.Process.Pid); ok {
				wire, wired = w, calls
			}
		}
	}
	if err := cmd.Wait(); err != nil {
		b.Fatalf("nitro %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return calls, took, wire, wired
}

// written is what the children of sshd (the one serving the connection)
// wrote so far (/proc/PID/io's wchar); false once there is none.
func written(sshd int) (uint64, bool) {
	kids, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", sshd, sshd))
	if err != nil || len(strings.Fields(string(kids))) == 0 {
		return 0, false
	}
	var sum uint64
	for _, kid := range strings.Fields(string(kids)) {
		stat, err := os.ReadFile("/proc/" + kid + "/io")
		if err != nil {
			return 0, false
		}
		for line := range strings.Lines(string(stat)) {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "wchar: "); ok {
				n, err := strconv.ParseUint(v, 10, 64)
				if err != nil {
					return 0, false
				}
				sum += n
			}
		}
	}
	return sum, true
}
