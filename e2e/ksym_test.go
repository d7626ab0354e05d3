package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"nitro/internal/lab"
)

var kallsymsLine = regexp.MustCompile(`(?m)^kallsyms: ([0-9a-f]{16}) (\w) (\w+)\r?$`)

// TestSymbolsFromMemory finds kernel symbols in each guest's memory alone
// (KASLR on, no files) and compares them with the guest's own
// /proc/kallsyms, printed on its serial console at boot: with an empty
// cache, then from what the first run kept there.
func TestSymbolsFromMemory(t *testing.T) {
	lab.RequireRoot(t)
	for _, g := range guests {
		t.Run(g.Name, func(t *testing.T) { symbolsFromMemory(t, g) })
	}
}

// symbolsFromMemory checks `nitro symbols` on g against g's own lines.
func symbolsFromMemory(t *testing.T, g lab.Guest) {
	log, err := g.Serial()
	if err != nil {
		t.Fatal(err)
	}
	lines := kallsymsLine.FindAllStringSubmatch(log, -1)
	if len(lines) < 8 {
		t.Fatalf("guest printed %d kallsyms lines, want at least 8", len(lines))
	}
	cache := t.TempDir()
	checkSymbols(t, g, cache, "cold", lines)
	kept, _ := filepath.Glob(filepath.Join(cache, "nitro", "profiles", "*.ksyms"))
	if len(kept) != 1 {
		t.Fatalf("the cache holds %q, want one symbol table", kept)
	}
	before, err := os.Stat(kept[0])
	if err != nil {
		t.Fatal(err)
	}
	// A table the next run does not take is found and written again.
	checkSymbols(t, g, cache, "cached", lines)
	if after, err := os.Stat(kept[0]); err != nil || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("the second run did not use the cached table: %v", err)
	}
}

// checkSymbols runs `nitro symbols`, which prints what nitro found in
// /proc/kallsyms's form, with cache as XDG_CACHE_HOME.
func checkSymbols(t *testing.T, g lab.Guest, cache, run string, lines [][]string) {
	cmd := exec.Command(nitroBin, "-c", lab.URI, "symbols", g.Name)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cache)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: nitro symbols: %v", run, err)
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
			t.Errorf("%s: %s: nitro finds %q, guest says %s", run, l[3], got, l[1])
		}
	}
	if found["_text"] == "ffffffff81000000" {
		t.Errorf("_text at the link address: KASLR is off in %s", g.Name)
	}
}
