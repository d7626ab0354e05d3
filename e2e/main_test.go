package e2e

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"nitro/core"
	"nitro/internal/lab"
)

// guests are booted once, side by side, before any test runs.
var guests = []lab.Guest{lab.Default, lab.Newer}

// labGuests off leaves guests alone, for the benchmarks that bring their own
// guest (EightVCPUs, Soak): someone else may be using those guests.
var labGuests = flag.Bool("lab", true, "boot the lab guests (nitro-lab, nitro-lab-612) first and check them after")

// nitroBin is the nitro binary under test, built once by TestMain.
var nitroBin string

// closeInheritedOnExec marks the files this process was started with, past
// stdin, stdout and stderr, close-on-exec: a lock held by whoever started
// the tests (flock) must not pass to nitro, its guard or a libvirtd a test
// restarts, which would hold it long after the tests.
func closeInheritedOnExec() {
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		if n, err := strconv.Atoi(fd.Name()); err == nil && n > 2 {
			unix.CloseOnExec(n)
		}
	}
}

func TestMain(m *testing.M) {
	// core.Attach starts this test binary again as its detach guard.
	core.RunGuardIfAsked()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	closeInheritedOnExec()
	if os.Geteuid() != 0 {
		return m.Run() // each test skips (or fails under CI) through lab.RequireRoot
	}
	dir, err := os.MkdirTemp("", "nitro-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	nitroBin = filepath.Join(dir, "nitro")
	build := exec.Command("go", "build", "-o", nitroBin, ".")
	build.Dir = lab.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: building nitro: %v\n%s", err, out)
		return 1
	}
	flag.Parse()
	if !*labGuests {
		guests = nil
	}
	if err := bootAll(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	starts := make([]int, len(guests))
	for i, g := range guests {
		if starts[i], err = g.SerialSize(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
	}
	code := m.Run()
	// However the tests went, the guests must have come through unharmed.
	for i, g := range guests {
		if err := unharmed(g, starts[i]); err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			code = max(code, 1)
		}
	}
	if err := takeOnDemandDown(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		code = max(code, 1)
	}
	return code
}

// harm is what a guest's console shows when tracing broke it: a kernel
// oops or panic, a fault, a program killed by a fault, or a reboot.
var harm = regexp.MustCompile(`(?m)^.*(Kernel panic|Oops|double fault|general protection|BUG: |segfault at|nitro-lab: boot).*$`)

// unharmed checks the console output g wrote since offset start.
func unharmed(g lab.Guest, start int) error {
	log, err := g.Serial()
	if err != nil {
		return err
	}
	if start > len(log) {
		start = 0 // the log started again: the guest was restarted
	}
	if m := harm.FindString(log[start:]); m != "" {
		return fmt.Errorf("%s was harmed during the tests: %q (serial log %s)", g.Name, m, g.SerialPath())
	}
	return nil
}

func bootAll() error {
	errs := make([]error, len(guests))
	var wg sync.WaitGroup
	for i, g := range guests {
		wg.Go(func() { errs[i] = g.Up() })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
