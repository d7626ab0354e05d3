package e2e

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"nitro/internal/lab"
	"nitro/internal/syncbuf"
)

// sshLab is a nitro serve of the lab, and the keys of a class: two
// students who watch and a teacher who controls.
type sshLab struct {
	t          *testing.T
	dir        string
	cmd        *exec.Cmd
	addr, port string
	out        *syncbuf.Buffer // the audit lines serve prints
}

// clientKey writes a new private key for OpenSSH and returns its path and
// its authorized_keys line, commented with name.
func clientKey(t *testing.T, dir, name string) (path, line string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, name)
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sshPub, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return path, strings.TrimSpace(string(gossh.MarshalAuthorizedKey(sshPub))) + " " + name + "\n"
}

// startServe starts nitro serve on a free loopback port for ann and bob
// (viewers) and teacher (controller), and writes a known_hosts file with
// the host key it made, whose fingerprint must be the one it printed.
func startServe(t *testing.T, args ...string) *sshLab {
	t.Helper()
	l := &sshLab{t: t, dir: t.TempDir(), out: &syncbuf.Buffer{}}
	var viewers, controllers string
	for _, name := range []string{"ann", "bob", "teacher"} {
		_, line := clientKey(t, l.dir, name)
		if name == "teacher" {
			controllers += line
		} else {
			viewers += line
		}
	}
	clientKey(t, l.dir, "stranger")
	for name, text := range map[string]string{"viewers": viewers, "controllers": controllers} {
		if err := os.WriteFile(filepath.Join(l.dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l.cmd = exec.Command(nitroBin, append([]string{"-c", lab.URI, "--theme", "none", "serve", "--listen", "127.0.0.1:0",
		"--host-key", filepath.Join(l.dir, "host_key"), "--authorized-keys", filepath.Join(l.dir, "viewers"),
		"--controllers", filepath.Join(l.dir, "controllers"), "--audit", filepath.Join(l.dir, "audit.log")}, args...)...)
	l.cmd.Stderr = os.Stderr
	stdout, err := l.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := l.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		l.cmd.Process.Signal(syscall.SIGTERM)
		l.cmd.Wait()
	})
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		t.Fatal("nitro serve printed nothing")
	}
	first := lines.Text()
	m := regexp.MustCompile(`^nitro serve: listening on (127\.0\.0\.1:(\d+)), host key (SHA256:\S+)$`).FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("nitro serve's startup line: %q", first)
	}
	l.addr, l.port = m[1], m[2]
	go func() {
		for lines.Scan() {
			fmt.Fprintln(l.out, lines.Text())
		}
	}()

	keyFile := filepath.Join(l.dir, "host_key")
	st, err := os.Stat(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("the host key file has mode %04o, want 0600", st.Mode().Perm())
	}
	data, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.ParsePrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	if fp := gossh.FingerprintSHA256(signer.PublicKey()); fp != m[3] {
		t.Errorf("nitro serve printed the host key %s; its file holds %s", m[3], fp)
	}
	known := "[127.0.0.1]:" + l.port + " " + string(gossh.MarshalAuthorizedKey(signer.PublicKey()))
	if err := os.WriteFile(filepath.Join(l.dir, "known_hosts"), []byte(known), 0o644); err != nil {
		t.Fatal(err)
	}
	return l
}

// ssh is the OpenSSH command line logging in as key's owner, checking
// the host key against the one the server made; extra come before the
// host, and the remote command after it.
func (l *sshLab) ssh(key string, extra []string, command ...string) []string {
	args := []string{"ssh", "-F", "/dev/null", "-p", l.port, "-o", "UserKnownHostsFile=" + filepath.Join(l.dir, "known_hosts"),
		"-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR"}
	if key != "" {
		args = append(args, "-i", filepath.Join(l.dir, key))
	}
	args = append(append(args, extra...), "127.0.0.1")
	return append(args, command...)
}

// open starts an SSH session of key's owner on domain in tmux.
func (l *sshLab) open(key, domain string) *tmux {
	l.t.Helper()
	return startTmux(l.t, "exec "+strings.Join(l.ssh(key, []string{"-t"}, domain), " "))
}

// TestServeClass is a class on the lab guest: two students watch over
// SSH while the teacher breaks on the probe's openat, edits its path and
// lets it go; every screen sees the same calls and the hold, the
// students' keys change nothing, and the teacher's actions are audited.
// Closing every session detaches; a new session, then SIGKILL of the
// server, leaves the guest running too.
func TestServeClass(t *testing.T) {
	lab.RequireRoot(t)
	g := lab.Default
	dom := labDomain(t, g)
	waitUnlocked(t, g)
	l := startServe(t)
	ann, bob, teacher := l.open("ann", g.Name), l.open("bob", g.Name), l.open("teacher", g.Name)
	screens := []*tmux{ann, bob, teacher}
	for _, tm := range screens {
		tm.waitFor(`Syscalls \d+`, time.Minute)
	}

	// The students see the same new calls: the probe's, on both screens.
	for _, tm := range []*tmux{ann, bob} {
		tm.keys("/")
		tm.waitFor(`(?m)^/`, 10*time.Second)
		tm.keys("probe-input", "Enter")
	}
	row := regexp.MustCompile(`(?m)^\s*\d\d:\d\d:\d\d\.\d{3}\s+\d+\s+\d+ nitro-probe\s+openat\(AT_FDCWD, "/etc/nitro/probe-input".*$`)
	seen := row.FindString(ann.waitFor(row.String(), tracedIteration))
	bob.waitFor(`(?m)^`+regexp.QuoteMeta(seen)+`$`, 10*time.Second)

	// A student's b is refused.
	ann.keys("b")
	ann.waitFor(`read-only session`, 10*time.Second)

	// The teacher breaks on the probe's openat; every screen shows it held, by whom.
	teacher.filterOpenat()
	teacher.keys("b")
	teacher.waitFor(`\| break openat`, 10*time.Second)
	held := holdProbe(t, teacher, probeHeld)
	for _, tm := range []*tmux{ann, bob} {
		tm.waitFor(`(?s)held by teacher.*HELD|HELD.*held by teacher`, 10*time.Second)
		tm.waitFor(`comm "nitro-probe"`, 10*time.Second)
	}
	bob.keys("c")
	bob.waitFor(`read-only session`, 10*time.Second)

	// The teacher edits the path and lets the call go: the probe reads the other file.
	start, err := g.SerialSize()
	if err != nil {
		t.Fatal(err)
	}
	teacher.keys("j") // from arg0 to arg1, the path
	time.Sleep(300 * time.Millisecond)
	teacher.keys("e")
	teacher.waitFor(`edit arg1`, 10*time.Second)
	teacher.keys("C-u")
	teacher.keys(`"/etc/nitro/probe-other"`, "Enter")
	teacher.waitFor(`edited`, 10*time.Second)
	ann.waitFor(`"/etc/nitro/probe-other"`, 10*time.Second) // the students see the edit
	teacher.keys("b")
	teacher.waitFor(`break cleared: openat`, 10*time.Second)
	teacher.keys("c")
	probe := regexp.MustCompile(`^nitro-probe: pid ` + held[1] + ` ppid 1 read 18 bytes: nitro probe OTHER$`)
	if _, _, err := g.WaitSerial(probe, start, time.Minute); err != nil {
		t.Fatalf("%v; teacher's screen:\n%s", err, teacher.screen())
	}
	for _, tm := range []*tmux{ann, bob} {
		tm.waitFor(`the held call ran on`, 10*time.Second)
	}

	audit, err := os.ReadFile(filepath.Join(l.dir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`name="teacher" domain="` + g.Name + `" action="break openat" result=ok`,
		`name="teacher" domain="` + g.Name + `" action="edit arg 1 = \"/etc/nitro/probe-other\"" result=ok`,
		`name="teacher" domain="` + g.Name + `" action="continue" result=ok`} {
		if !strings.Contains(string(audit), want) || !strings.Contains(l.out.String(), want) {
			t.Errorf("the audit log (file and output) lacks %s:\nfile:\n%s\noutput:\n%s", want, audit, l.out)
		}
	}

	// Closing every session detaches: no breakpoint, the guest runs.
	for _, tm := range screens {
		tm.keys("q")
	}
	for _, tm := range screens {
		tm.gone(10 * time.Second)
	}
	waitUnlocked(t, g)
	waitDetached(t, dom)
	requireRunning(t, g)

	// SIGKILL of the server with a session open: the guard detaches.
	again := l.open("teacher", g.Name)
	again.waitFor(`Syscalls \d+`, time.Minute)
	l.cmd.Process.Signal(syscall.SIGKILL)
	l.cmd.Wait()
	waitUnlocked(t, g)
	waitDetached(t, dom)
	requireRunning(t, g)
}

// TestServeRefusals: only the keys of the files get in, by public key:
// the server offers no password or keyboard-interactive login at all. A
// student's key gets the domain list, read-only.
func TestServeRefusals(t *testing.T) {
	lab.RequireRoot(t)
	l := startServe(t)
	for _, c := range []struct {
		name  string
		key   string
		extra []string
	}{
		{"password", "", []string{"-o", "PreferredAuthentications=password", "-o", "PubkeyAuthentication=no"}},
		{"keyboard-interactive", "", []string{"-o", "PreferredAuthentications=keyboard-interactive", "-o", "PubkeyAuthentication=no"}},
		{"unknown key", "stranger", nil},
	} {
		args := l.ssh(c.key, append(c.extra, "-T"), "true")
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Stdin = strings.NewReader("secret\n")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "Permission denied (publickey)") {
			t.Errorf("%s: %v\n%s", c.name, err, out)
		}
	}
	// A known key gets in (without a terminal it is told it needs one).
	args := l.ssh("ann", []string{"-T"})
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if !strings.Contains(string(out), "needs a terminal") {
		t.Errorf("ann's key: %v\n%s", err, out)
	}
	// With a terminal and no domain: the domain list, where a student's
	// keys change nothing.
	tm := startTmux(t, "exec "+strings.Join(l.ssh("ann", nil), " "))
	tm.waitFor(`(?m)^>?\s*`+lab.Default.Name+`\s+running`, 30*time.Second)
	tm.keys("p")
	tm.waitFor(`read-only session`, 10*time.Second)
	tm.keys("q")
	tm.gone(10 * time.Second)
}
