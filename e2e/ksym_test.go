package e2e

import (
	"regexp"
	"strconv"
	"testing"

	"nitro/core"
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
			guest, err := core.OpenGuest(lab.URI, g.Name, core.Kernel{})
			if err != nil {
				t.Fatal(err)
			}
			defer guest.Close()
			for _, l := range lines {
				want, _ := strconv.ParseUint(l[1], 16, 64)
				got, ok := guest.Symbol(l[3])
				if !ok || got != want {
					t.Errorf("%s: nitro finds %#x (found %v), guest says %#x", l[3], got, ok, want)
				}
			}
			if text, _ := guest.Symbol("_text"); text == 0xffffffff81000000 {
				t.Errorf("_text at the link address: KASLR is off in %s", g.Name)
			}
		})
	}
}
