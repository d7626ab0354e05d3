package remote

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"nitro/api"
	"nitro/ui/uitest"
)

// filer is a far hypervisor that reads kernels from files: it keeps what
// the files it was given held when an attach or inspect used them.
type filer struct {
	*uitest.Hypervisor
	mu                   sync.Mutex
	symbols, profile     []byte
	symPath, profilePath string
}

func (f *filer) WithKernel(symbols, profile string) api.Hypervisor {
	return &filed{f: f, Hypervisor: f.Hypervisor, symbols: symbols, profile: profile}
}

// filed is filer's hypervisor with the files: Attach and Inspect read them
// as core does when it opens the guest.
type filed struct {
	*uitest.Hypervisor
	f                *filer
	symbols, profile string
}

func (h *filed) read() {
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	h.f.symPath, h.f.profilePath = h.symbols, h.profile
	h.f.symbols, _ = os.ReadFile(h.symbols)
	h.f.profile, _ = os.ReadFile(h.profile)
}

// read is what the last attach or inspect read, and from where.
func (f *filer) read() (symbols, profile []byte, symPath, profilePath string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.symbols, f.profile, f.symPath, f.profilePath
}

func (h *filed) Attach(ctx context.Context, name string, o api.AttachOptions) (api.Session, error) {
	h.read()
	return h.Hypervisor.Attach(ctx, name, o)
}

func (h *filed) Inspect(ctx context.Context, name string) (api.Guest, error) {
	h.read()
	return h.Hypervisor.Inspect(ctx, name)
}

// The files given on the near side go with attach and inspect, and the far
// side attaches with their contents, from files of its own that it
// removes once the attach has read them.
func TestKernelFilesSent(t *testing.T) {
	dir := t.TempDir()
	symbols, profile := filepath.Join(dir, "kallsyms"), filepath.Join(dir, "profile.json")
	wantSyms := []byte("ffffffff81000000 T _text\nffffffff81000100 T renamed_by_the_test\n")
	wantProfile := []byte{0xfd, '7', 'z', 'X', 'Z', 0, 0xff, 0x80} // bytes that are not UTF-8 cross whole
	if err := os.WriteFile(symbols, wantSyms, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(profile, wantProfile, 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := ReadKernelFiles(symbols, profile)
	if err != nil {
		t.Fatal(err)
	}
	h := &filer{Hypervisor: uitest.NewHypervisor()}
	h.Add(api.Domain{Name: "lab", State: "running"}, uitest.NewSession())
	c, _ := serve(t, h)
	c.Kernel = k
	s, err := c.Attach(context.Background(), "lab", api.AttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	gotSyms, gotProfile, symPath, profilePath := h.read()
	if !bytes.Equal(gotSyms, wantSyms) || !bytes.Equal(gotProfile, wantProfile) {
		t.Errorf("the far side read symbols %q and profile %q", gotSyms, gotProfile)
	}
	if symPath == symbols || profilePath == profile {
		t.Errorf("the far side was given the near side's paths")
	}
	if _, err := os.Stat(filepath.Dir(symPath)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the far side kept the files sent in %s: %v", filepath.Dir(symPath), err)
	}
	// Inspect carries them too (the uitest hypervisor then refuses it).
	c.Kernel = &KernelFiles{Symbols: []byte("for inspect")}
	_, err = c.Inspect(context.Background(), "lab")
	if gotSyms, _, _, _ := h.read(); err == nil || string(gotSyms) != "for inspect" {
		t.Errorf("inspect: %v, the far side read symbols %q", err, gotSyms)
	}
}

// A far hypervisor that cannot read kernels from files refuses them
// rather than attaching with what it finds in memory.
func TestKernelFilesRefusedWithoutFiler(t *testing.T) {
	hv := uitest.NewHypervisor()
	hv.Add(api.Domain{Name: "lab", State: "running"}, uitest.NewSession())
	c, _ := serve(t, hv)
	c.Kernel = &KernelFiles{Symbols: []byte("ffffffff81000000 T _text\n")}
	if _, err := c.Attach(context.Background(), "lab", api.AttachOptions{}); !errors.Is(err, api.ErrNotSupported) {
		t.Errorf("attach with files to a hypervisor without them: %v", err)
	}
}

// A file over MaxFile is refused on the near side, naming the flag.
func TestKernelFileTooBig(t *testing.T) {
	big := filepath.Join(t.TempDir(), "vmlinux")
	if err := os.WriteFile(big, make([]byte, MaxFile+1), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ReadKernelFiles(big, "")
	if !errors.Is(err, ErrFileTooBig) || !strings.Contains(err.Error(), "--symbols "+big) {
		t.Errorf("ReadKernelFiles: %v", err)
	}
	if k, err := ReadKernelFiles("", ""); k != nil || err != nil {
		t.Errorf("no files: %v, %v", k, err)
	}
	if k, err := ReadKernelFiles("", big[:len(big)-1]); err == nil {
		t.Errorf("a missing --profile: %v, want an error", k)
	}
}
