//go:build matrix

package e2e

import (
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"nitro/internal/lab"
)

var liveKernels = flag.String("kernels", "", "comma-separated vmlinuz images for TestKernelsLive to boot (make kernel-matrix-live)")

// TestKernelsLive boots each -kernels image as a lab guest with KASLR
// (make kernel-matrix-live picks Debian kernels the lab does not otherwise
// use: an rt, a cloud and another ABI), then checks that nitro finds the
// symbols the guest itself lists, traces nitro-probe exactly, and shows
// nitro-rich's calls as the guest's strace does. It needs the build tag
// matrix: make test's machine has no kernel cache.
func TestKernelsLive(t *testing.T) {
	if *liveKernels == "" {
		t.Fatal("no -kernels to boot (make kernel-matrix-live names them)")
	}
	lab.RequireRoot(t)
	for image := range strings.SplitSeq(*liveKernels, ",") {
		t.Run(filepath.Base(image), func(t *testing.T) {
			g := lab.Guest{Name: "nitro-kernel", KernelImage: image, VCPUs: 1, Workload: "light", Vendor: "AMD", Strace: "rich"}
			if err := g.Up(); err != nil {
				t.Fatal(err)
			}
			defer g.Down()
			if _, _, err := g.WaitSerial(lab.Iteration, 0, 3*time.Minute); err != nil {
				t.Fatalf("%s did not boot the lab's workload: %v", image, err)
			}
			symbolsFromMemory(t, g)
			traceProbe(t, g)
			traceRich(t, g)
			requireRunning(t, g)
		})
	}
}
