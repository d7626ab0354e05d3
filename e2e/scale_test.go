package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"nitro/internal/lab"
)

// guestHostMemory is what the host holds for g's RAM and QEMU's own:
// QEMU's private resident memory plus what its memfds have allocated (not
// their size: a memfd's untouched pages cost nothing until read).
type guestHostMemory struct{ anon, memfd uint64 }

func (m guestHostMemory) total() uint64 { return m.anon + m.memfd }

// hostMemory measures g's QEMU process, found by the pid file libvirt keeps.
func hostMemory(tb testing.TB, g lab.Guest) guestHostMemory {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("/run/libvirt/qemu", g.Name+".pid"))
	if err != nil {
		tb.Fatalf("finding %s's QEMU: %v", g.Name, err)
	}
	pid := strings.TrimSpace(string(raw))
	var m guestHostMemory
	if m.anon, err = rssAnon(pid); err != nil {
		tb.Fatal(err)
	}
	fds, err := os.ReadDir("/proc/" + pid + "/fd")
	if err != nil {
		tb.Fatal(err)
	}
	for _, fd := range fds {
		path := filepath.Join("/proc", pid, "fd", fd.Name())
		if target, err := os.Readlink(path); err != nil || !strings.HasPrefix(target, "/memfd:") {
			continue
		}
		var st unix.Stat_t
		if err := unix.Stat(path, &st); err == nil {
			m.memfd += uint64(st.Blocks) * 512
		}
	}
	return m
}

// TestAttachLeavesGuestRAMAlone attaches to the 8 GiB guest, whose RAM is a
// memfd the guest has touched little of, and fails if the host allocated
// 64 MiB or more of it meanwhile: nitro finds the kernel where the vCPU's
// page tables map it, and any sweep skips what the guest never wrote (a
// read of an untouched memfd page makes the host allocate it). The guest's
// own workload allocates a little over those seconds, too.
func TestAttachLeavesGuestRAMAlone(t *testing.T) {
	lab.RequireRoot(t)
	g := lab.Newer
	if g.MemMB < 8192 {
		t.Fatalf("%s has %d MiB of RAM; the test wants 8 GiB", g.Name, g.MemMB)
	}
	before := hostMemory(t, g)
	if before.memfd == 0 {
		t.Fatalf("%s's QEMU holds no memfd: the lab guest's RAM should be one", g.Name)
	}
	for _, args := range [][]string{{"ps"}, {"symbols"}, {"trace", "--count", "20"}} {
		cmd := exec.Command(nitroBin, append(append([]string{"-c", lab.URI}, args...), g.Name)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("nitro %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	after := hostMemory(t, g)
	grew := int64(after.total()) - int64(before.total())
	t.Logf("host memory for %s: %s before, %s after (memfd %s → %s)", g.Name,
		mib(before.total()), mib(after.total()), mib(before.memfd), mib(after.memfd))
	if grew >= 64<<20 {
		t.Errorf("attaching three times made the host allocate %s more for %s's RAM (limit 64 MiB)", mib(uint64(grew)), g.Name)
	}
	requireRunning(t, g)
}

func mib(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// rssAnon is the private resident memory of process pid ("self" for this
// one), from its status.
func rssAnon(pid string) (uint64, error) {
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "RssAnon:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("/proc/%s/status has no RssAnon line", pid)
}
