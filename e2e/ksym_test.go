package e2e

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"nitro/internal/lab"
)

var kallsymsLine = regexp.MustCompile(`(?m)^kallsyms: ([0-9a-f]{16}) (\w) (\w+)\r?$`)

// TestSymbolsFromMemory finds kernel symbols in each guest's memory alone
// (KASLR on, no files) and compares them with the guest's own
// /proc/kallsyms, printed on its serial console at boot.
func TestSymbolsFromMemory(t *testing.T) {
	lab.RequireRoot(t)
	for _, g := range guests {
		t.Run(g.Name, func(t *testing.T) {
			log, err := g.Serial()
			if err != nil {
				t.Fatal(err)
			}
			lines := kallsymsLine.FindAllStringSubmatch(log, -1)
			if len(lines) < 8 {
				t.Fatalf("guest printed %d kallsyms lines, want at least 8", len(lines))
			}
			// `nitro symbols` prints what nitro found, in /proc/kallsyms's form.
			out, err := exec.Command(nitroBin, "-c", lab.URI, "symbols", g.Name).Output()
			if err != nil {
				t.Fatalf("nitro symbols: %v", err)
			}
			found := map[string]string{}
			for _, l := range strings.Split(string(out), "\n") {
				if f := strings.Fields(l); len(f) == 3 {
					if _, dup := found[f[2]]; !dup {
						found[f[2]] = f[0]
					}
				}
			}
			for _, l := range lines {
				if got := found[l[3]]; got != l[1] {
					t.Errorf("%s: nitro finds %q, guest says %s", l[3], got, l[1])
				}
			}
			if found["_text"] == "ffffffff81000000" {
				t.Errorf("_text at the link address: KASLR is off in %s", g.Name)
			}
		})
	}
}
