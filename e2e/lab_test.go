package e2e

import (
	"cmp"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"nitro/core/kvm/domain"
	"nitro/internal/lab"
)

// TestLabGuests checks the lab itself: libvirt runs each guest as
// configured, its workload iterates on the serial console, and QEMU's monitor
// answers through libvirt, the path the listener attaches by.
func TestLabGuests(t *testing.T) {
	lab.RequireRoot(t)
	for _, g := range guests {
		t.Run(g.Name, func(t *testing.T) { checkGuest(t, g) })
	}
}

// labDomain opens g's libvirt domain for the rest of the test.
func labDomain(tb testing.TB, g lab.Guest) *domain.Domain {
	tb.Helper()
	dom, err := domain.OpenDomain(lab.URI, g.Name)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { dom.Close() })
	return dom
}

func checkGuest(t *testing.T, g lab.Guest) {
	dom := labDomain(t, g)
	info, err := dom.Info()
	if err != nil {
		t.Fatal(err)
	}
	mem := uint64(cmp.Or(g.MemMB, 256)) // lab.sh's default
	if info.State != domain.Running || info.VCPUs != uint(g.VCPUs) || info.MemoryKiB != mem*1024 {
		t.Fatalf("libvirt reports %+v, want running with %d vCPUs and %d MiB", info, g.VCPUs, mem)
	}

	boot, _, err := g.WaitSerial(regexp.MustCompile(`^nitro-lab: boot kernel=(\S+) vcpus=(\d+) workload=(\w+) pti=(\w+)`), 0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	pti := map[string]string{"AMD": "off", "Intel": "on"}[g.Vendor]
	if !strings.HasPrefix(boot[1], g.Kernel+".") || boot[2] != strconv.Itoa(g.VCPUs) || boot[3] != g.Workload || boot[4] != pti {
		t.Fatalf("guest booted %q, want kernel %s.*, %d vCPUs, workload %s, pti %s", boot[0], g.Kernel, g.VCPUs, g.Workload, pti)
	}

	// The workload iterates: two successive iterations appear, in order.
	start, err := g.SerialSize()
	if err != nil {
		t.Fatal(err)
	}
	first, pos, err := g.WaitSerial(lab.Iteration, start, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(first[1])
	next, _, err := g.WaitSerial(regexp.MustCompile(`^nitro-lab: iteration `+strconv.Itoa(n+1)+`\b`), pos, 30*time.Second)
	if err != nil {
		t.Fatalf("after iteration %d: %v", n, err)
	}
	t.Logf("workload progresses: %q after %q", strings.TrimSpace(next[0]), strings.TrimSpace(first[0]))
	if _, _, err := g.WaitSerial(regexp.MustCompile(`^nitro-probe: pid \d+ ppid 1 read 18 bytes: nitro probe input$`), 0, 30*time.Second); err != nil {
		t.Fatal(err)
	}

	regs, err := dom.HMP("info registers")
	if err != nil {
		t.Fatal(err)
	}
	for _, reg := range []string{"RIP=", "CR3=", "EFER="} {
		if !strings.Contains(regs, reg) {
			t.Fatalf("`info registers` through libvirt lacks %s:\n%s", reg, regs)
		}
	}
	if pid, err := dom.QEMUPid(); err != nil || pid <= 1 {
		t.Fatalf("QEMU pid of %s: %d, %v", g.Name, pid, err)
	}
}

// TestDomainsCommand runs `nitro domains` against the real libvirtd.
func TestDomainsCommand(t *testing.T) {
	lab.RequireRoot(t)
	out, err := exec.Command(nitroBin, "-c", lab.URI, "domains").CombinedOutput()
	if err != nil {
		t.Fatalf("nitro domains: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`(?m)^` + lab.Default.Name + `\s+running\s+1\s+256 MiB$`).Match(out) {
		t.Fatalf("nitro domains does not list %s running:\n%s", lab.Default.Name, out)
	}
}
