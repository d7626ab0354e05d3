package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"nitro/internal/lab"
)

// TestKernelOverrides saves the symbols and structure layout nitro found in
// the guest (`nitro symbols`, `nitro profile`) and reads the guest again
// with them given as files: the process list, read with the guest paused,
// is the same. A kernel image's link-time symbols do not fit a KASLR guest
// and are refused.
func TestKernelOverrides(t *testing.T) {
	lab.RequireRoot(t)
	g := lab.Default
	dir := t.TempDir()
	nitro := func(args ...string) []byte {
		t.Helper()
		out, err := exec.Command(nitroBin, append([]string{"-c", lab.URI}, args...)...).Output()
		if err != nil {
			t.Fatalf("nitro %s: %v", strings.Join(args, " "), err)
		}
		return out
	}
	syms, profile := filepath.Join(dir, "kallsyms"), filepath.Join(dir, "profile.json")
	if err := os.WriteFile(syms, nitro("symbols", g.Name), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(profile, nitro("profile", g.Name), 0o600); err != nil {
		t.Fatal(err)
	}

	dom := labDomain(t, g)
	if err := dom.Suspend(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := dom.Resume(); err != nil {
			t.Error(err)
		}
	}()
	want := nitro("ps", "--json", g.Name)
	got := nitro("--symbols", syms, "--profile", profile, "ps", "--json", g.Name)
	if !bytes.Equal(got, want) || !bytes.Contains(want, []byte(`"comm":"init"`)) {
		t.Fatalf("with files given:\n%s\nfrom memory:\n%s", got, want)
	}

	images, _ := filepath.Glob("/boot/vmlinuz-" + g.Kernel + ".*")
	if len(images) == 0 {
		t.Fatal("no kernel image in /boot (lab/deps.sh installs it)")
	}
	out, err := exec.Command(nitroBin, "-c", lab.URI, "--symbols", images[0], "ps", g.Name).CombinedOutput()
	if err == nil || !bytes.Contains(out, []byte("symbols do not match the running kernel")) {
		t.Fatalf("link-time symbols on a KASLR guest: %v\n%s", err, out)
	}
}
