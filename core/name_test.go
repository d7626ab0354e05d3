package core

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadDomainNames: a domain name becomes a path under /run/nitro and an
// argument of QEMU's monitor; one that could leave the directory or add
// monitor options is refused at every door before anything is touched
// (uri is libvirt's in-process test driver: no daemon is reached).
func TestBadDomainNames(t *testing.T) {
	const escapee = "nitro-name-test-escape"
	outside := filepath.Join(filepath.Dir(runDir), escapee+".lock")
	names := []string{
		"", "../" + escapee, "a/b", "gdb,server=on,wait=off", ".hidden", "..",
		"a\nb", "a\x1b[2Jb", "a\x7fb", "a\u009bb", "a b", "\xff", strings.Repeat("x", 200),
	}
	ctx := context.Background()
	for _, name := range names {
		if _, err := Attach(ctx, "test:///default", name, Options{}); !errors.Is(err, ErrBadDomainName) {
			t.Errorf("Attach(%q): %v, want ErrBadDomainName", name, err)
		}
		if _, err := OpenGuest("test:///default", name, Kernel{}); !errors.Is(err, ErrBadDomainName) {
			t.Errorf("OpenGuest(%q): %v, want ErrBadDomainName", name, err)
		}
		if err := Detach(ctx, "test:///default", name); !errors.Is(err, ErrBadDomainName) {
			t.Errorf("Detach(%q): %v, want ErrBadDomainName", name, err)
		}
	}
	if _, err := os.Lstat(outside); err == nil {
		os.Remove(outside)
		t.Errorf("a lock file was made outside %s: %s", runDir, outside)
	}
	for _, name := range []string{"nitro-lab", "nitro-lab-612", "vm_1.test", "débian"} {
		if err := checkDomainName(name); err != nil {
			t.Errorf("%q refused: %v", name, err)
		}
	}
}

// TestLockRefusesSymlink: the attach lock is not opened through a symlink,
// which could make root create or lock a file elsewhere.
func TestLockRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere")
	lock := filepath.Join(dir, "vm.lock")
	if err := os.Symlink(target, lock); err != nil {
		t.Fatal(err)
	}
	if f, err := lockFile(lock, "vm"); err == nil {
		f.Close()
		t.Error("the lock was opened through a symlink")
	}
	if _, err := os.Lstat(target); err == nil {
		t.Error("the symlink's target was created")
	}
	f, err := lockFile(filepath.Join(dir, "ok.lock"), "ok")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
}
