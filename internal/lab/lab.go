package lab

import (
	"errors"
	"fmt"
	"nitro/internal/testenv"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Guest is one lab guest configuration; see lab/lab.sh for the meaning of each field.
type Guest struct {
	Name     string
	Kernel   string // kernel version prefix in /boot, e.g. "6.1" or "6.12"
	VCPUs    int
	Workload string // "light" or "busy"
	Vendor   string // "AMD", or "Intel" for a kernel with page-table isolation
	MemMB    int    // RAM; 0 is lab.sh's default (256)
	Backing  string // guest RAM: "memfd" (lab.sh's default) or "anon", libvirt's default
	// Strace is lab.sh's LAB_STRACE, which of its steps run under the
	// guest's own strace: "" for lab.sh's default (nitro-rich and the mix),
	// "rich" (nitro-rich only) or "off".
	Strace string
	// KernelImage, when set, is the vmlinuz to boot instead of Kernel's.
	KernelImage string
}

// The guests the end-to-end tests use.
var (
	// Default is what `make lab-up` boots: kernel 6.1, one vCPU.
	Default = Guest{Name: "nitro-lab", Kernel: "6.1", VCPUs: 1, Workload: "light", Vendor: "AMD"}
	// Newer runs the 6.12 kernel on two Intel vCPUs, so with page-table
	// isolation, and has 8 GiB of RAM, almost all of it never touched: what
	// attaching costs must not grow with it. Only nitro-rich runs under its
	// strace: traced, the shell workload would add half a minute every
	// third iteration to the tests that wait there for the probe.
	Newer = Guest{Name: "nitro-lab-612", Kernel: "6.12", VCPUs: 2, Workload: "light", Vendor: "Intel", MemMB: 8192, Strace: "rich"}
)

// URI is the libvirt connection the lab uses.
const URI = "qemu:///system"

// RepoRoot is the repository's top directory, found from this file's place.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

func (g Guest) env() []string {
	env := os.Environ()
	if g.MemMB != 0 {
		env = append(env, "LAB_MEM_MB="+strconv.Itoa(g.MemMB))
	}
	if g.Backing != "" {
		env = append(env, "LAB_MEM_BACKING="+g.Backing)
	}
	if g.Strace != "" {
		env = append(env, "LAB_STRACE="+g.Strace)
	}
	if g.KernelImage != "" {
		env = append(env, "LAB_KERNEL_IMAGE="+g.KernelImage)
	}
	return append(env,
		"LAB_NAME="+g.Name,
		"LAB_KERNEL="+g.Kernel,
		"LAB_VCPUS="+strconv.Itoa(g.VCPUs),
		"LAB_WORKLOAD="+g.Workload,
		"LAB_CPU_VENDOR="+g.Vendor,
		"LAB_URI="+URI,
	)
}

func (g Guest) script(verb string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(RepoRoot(), "lab", "lab.sh"), verb)
	cmd.Env = g.env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("lab.sh %s %s: %w\n%s", verb, g.Name, err, out)
	}
	return out, nil
}

// Up boots the guest unless it already runs with this configuration, and
// returns once its workload has printed its first line.
func (g Guest) Up() error {
	_, err := g.script("up")
	return err
}

// Down destroys and undefines the guest.
func (g Guest) Down() error {
	_, err := g.script("down")
	return err
}

// SerialPath is where the guest's serial console is written.
func (g Guest) SerialPath() string {
	return filepath.Join("/var/lib/nitro/lab", g.Name, "serial.log")
}

// Serial returns the serial log so far.
func (g Guest) Serial() (string, error) {
	b, err := os.ReadFile(g.SerialPath())
	if err != nil {
		return "", fmt.Errorf("reading serial log of %s: %w", g.Name, err)
	}
	return string(b), nil
}

// ErrTimeout is returned when the serial log does not show what was awaited.
var ErrTimeout = errors.New("timed out waiting for the serial log")

// WaitSerial waits until re matches a line of the serial log written after
// its first `after` bytes, and returns the submatches and the offset just past
// that line, so callers can wait for what comes next.
func (g Guest) WaitSerial(re *regexp.Regexp, after int, timeout time.Duration) ([]string, int, error) {
	deadline := time.Now().Add(timeout)
	for {
		log, err := g.Serial()
		if err != nil {
			return nil, 0, err
		}
		if after > len(log) { // the guest was restarted: the log began again
			after = 0
		}
		for pos := after; ; {
			nl := strings.IndexByte(log[pos:], '\n')
			if nl < 0 {
				break // the rest is still being written
			}
			// The guest's tty ends lines with \r\n.
			line := strings.TrimSuffix(log[pos:pos+nl], "\r")
			if m := re.FindStringSubmatch(line); m != nil {
				return m, pos + nl + 1, nil
			}
			pos += nl + 1
		}
		if time.Now().After(deadline) {
			return nil, len(log), fmt.Errorf("%w: %s: no line matching %q in %s", ErrTimeout, g.Name, re, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// SerialSize is the serial log's current length, a starting point for WaitSerial.
func (g Guest) SerialSize() (int, error) {
	fi, err := os.Stat(g.SerialPath())
	if err != nil {
		return 0, fmt.Errorf("reading serial log of %s: %w", g.Name, err)
	}
	return int(fi.Size()), nil
}

// Iteration is the light workload's progress line.
var Iteration = regexp.MustCompile(`^nitro-lab: iteration (\d+)`)

// RequireRoot skips a test that needs root (libvirt's system daemon, QEMU's
// memory) when not run as root, except under CI, where it fails instead: CI
// must run every end-to-end test.
func RequireRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() == 0 {
		return
	}
	testenv.Missing(tb, "end-to-end test needs root (libvirt's qemu:///system and the lab guest); run `make test` as root")
}
