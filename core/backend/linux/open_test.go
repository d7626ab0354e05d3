package linux

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestPruneSymbols: the symbol caches of many boots shrink to the most
// recently used keptSymbolCaches (by access time), and other files stay.
func TestPruneSymbols(t *testing.T) {
	dir := t.TempDir()
	base := time.Now().Add(-time.Hour)
	var want []string
	for i := range keptSymbolCaches + 5 {
		p := filepath.Join(dir, fmt.Sprintf("%02d.ksyms", i))
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		at := base.Add(time.Duration(i) * time.Minute)
		if i == 0 {
			at = base.Add(2 * time.Hour) // the oldest file, used just now
		}
		if err := os.Chtimes(p, at, base); err != nil { // used at, written before
			t.Fatal(err)
		}
		if i == 0 || i > 5 {
			want = append(want, filepath.Base(p))
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "offsets.json"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	pruneSymbols(dir)
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	var got []string
	for _, p := range left {
		got = append(got, filepath.Base(p))
	}
	if want = append(want, "offsets.json"); !slices.Equal(got, want) {
		t.Fatalf("left %q, want %q", got, want)
	}
}
