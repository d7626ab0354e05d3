package linux

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"nitro/core/vmi/offsets"
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
		if err := os.WriteFile(bootCache{symbols: p}.layoutPath(), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if i == 0 || i > 5 {
			want = append(want, filepath.Base(p), fmt.Sprintf("%02d.layout", i))
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
	want = append(want, "offsets.json")
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("left %q, want %q", got, want)
	}
}

// TestBootCacheLayout: the layout named beside a boot's symbols answers
// only for a boot whose cached symbols were checked against the guest.
func TestBootCacheLayout(t *testing.T) {
	dir := t.TempDir()
	o := testOffsets()
	o.ThreadSize, o.Current = 16384, offsets.PerCPU{Symbol: "pcpu_hot"}
	const key = "00112233445566778899aabbccddeeff"
	f, err := os.Create(offsets.CacheFile(dir, key))
	if err != nil {
		t.Fatal(err)
	}
	if err := o.WriteProfile(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cached, err := offsets.FromCache(dir, key)
	if err != nil {
		t.Fatal(err)
	}
	boot := bootCache{symbols: filepath.Join(dir, "boot.ksyms")}
	boot.remember(cached)
	if name, err := os.ReadFile(filepath.Join(dir, "boot.layout")); err != nil || string(name) != key {
		t.Fatalf("remembered %q, %v; want %q", name, err, key)
	}
	if _, ok := boot.layout(dir); ok {
		t.Error("a boot whose symbols were not checked against the guest took the cached layout")
	}
	boot.seen = true
	got, ok := boot.layout(dir)
	if !ok || got.Task != o.Task || got.CacheKey() != key {
		t.Errorf("seen boot: layout %+v, %v", got, ok)
	}
	if err := os.WriteFile(boot.layoutPath(), []byte("../../etc/passwd"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := boot.layout(dir); ok {
		t.Error("a layout name that is not a key was followed")
	}
}
