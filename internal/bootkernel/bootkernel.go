package bootkernel

import (
	"path/filepath"
	"sync"
	"testing"

	"nitro/core/vmi/ksym/bzimage"
	"nitro/internal/testenv"
)

var cache sync.Map // path -> []byte

// Vmlinux extracts the vmlinux of the newest /boot kernel matching glob
// (e.g. "/boot/vmlinuz-6.1.*"). It skips the test with -short (extracting
// takes seconds) or when no such kernel is installed (lab/deps.sh installs
// them).
func Vmlinux(tb testing.TB, glob string) []byte {
	tb.Helper()
	if testing.Short() {
		tb.Skip("decompressing a /boot kernel takes seconds; skipped with -short")
	}
	paths, _ := filepath.Glob(glob)
	if len(paths) == 0 {
		testenv.Missing(tb, "no %s on this machine (lab/deps.sh installs Debian's kernels)", glob)
	}
	path := paths[len(paths)-1]
	if b, ok := cache.Load(path); ok {
		return b.([]byte)
	}
	b, err := bzimage.ExtractFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	cache.Store(path, b)
	return b
}
