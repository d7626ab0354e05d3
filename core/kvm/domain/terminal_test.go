package domain

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"nitro/internal/testenv"
)

// terminalHelper, set in the environment, makes this test binary connect
// to the URI it names, list the domains and print one line, as nitro does
// at start.
const terminalHelper = "NITRO_DOMAIN_TERMINAL_HELPER"

const systemURI = "qemu:///system"

// TestConnectLeavesTerminalAlone connects to libvirtd from a process whose
// controlling terminal is a pty, as root and as an unprivileged user (whom
// libvirtd refuses), and checks that the terminal shows only what the
// process printed itself: no message from libvirt's client library, nor
// from a polkit agent it would start. virsh, run the same way, starts
// pkttyagent, which prints "Authorization not available..." when no polkit
// daemon runs.
func TestConnectLeavesTerminalAlone(t *testing.T) {
	if uri := os.Getenv(terminalHelper); uri != "" {
		runTerminalHelper(uri)
	}
	if os.Geteuid() != 0 {
		testenv.Missing(t, "needs root: libvirtd's %s and a process of another user", systemURI)
	}
	if c, err := Open(systemURI); err != nil {
		testenv.Missing(t, "libvirtd does not answer on %s (make deps starts it): %v", systemURI, err)
	} else {
		c.Close()
	}
	if virsh, err := exec.LookPath("virsh"); err == nil {
		out, _ := onTerminal(t, exec.Command(virsh, "-c", systemURI, "list"), nil)
		t.Logf("virsh list on a terminal shows: %q", out)
	}

	exe := executableForAll(t)
	for _, user := range []struct {
		name string
		cred *syscall.Credential
	}{
		{"root", nil},
		{"nobody", &syscall.Credential{Uid: 65534, Gid: 65534}},
	} {
		t.Run(user.name, func(t *testing.T) {
			cmd := exec.Command(exe, "-test.run=^TestConnectLeavesTerminalAlone$")
			cmd.Env = append(os.Environ(), terminalHelper+"="+systemURI)
			out, err := onTerminal(t, cmd, user.cred)
			if err != nil {
				t.Fatalf("helper: %v; terminal: %q", err, out)
			}
			lines := strings.Split(strings.TrimRight(out, "\r\n"), "\r\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "helper: ") {
				t.Fatalf("the terminal shows more than the helper's line:\n%s", out)
			}
			t.Log(lines[0])
		})
	}
}

// runTerminalHelper connects and lists as nitro does, says how it went in
// one line, and exits.
func runTerminalHelper(uri string) {
	c, err := Open(uri)
	if err == nil {
		var infos []Info
		infos, err = c.List()
		c.Close()
		if err == nil {
			fmt.Printf("helper: %d domains\n", len(infos))
			os.Exit(0)
		}
	}
	// A refusal is an answer too: it is returned, and nitro says it once.
	fmt.Printf("helper: error: %v\n", err)
	os.Exit(0)
}

// onTerminal runs cmd in a session of its own whose controlling terminal is
// a new pty, as cred when not nil, and returns what the terminal got.
func onTerminal(t *testing.T, cmd *exec.Cmd, cred *syscall.Credential) (string, error) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	pts, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if cred != nil {
		if err := pts.Chown(int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pts, pts, pts
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0, Credential: cred}
	err = cmd.Start()
	pts.Close() // the child holds the terminal now; reads end when it is gone
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	_, rerr := io.Copy(&out, ptmx)
	if rerr != nil && !errors.Is(rerr, syscall.EIO) { // EIO: no process has the terminal open any more
		t.Fatal(rerr)
	}
	return out.String(), cmd.Wait()
}

// executableForAll returns a copy of this test binary that any user may
// run: go test keeps it in a directory only its owner can enter.
func executableForAll(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "nitro-domain-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "domain.test")
	src, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(exe, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return exe
}
