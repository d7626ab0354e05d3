package offsets

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/google/renameio/v2"

	"nitro/core/vmi"
	"nitro/core/vmi/ksym"
)

const (
	// maxBTFSize bounds the BTF read from a guest; Debian's is 4-5 MiB.
	maxBTFSize = 64 << 20
	// maxBannerLen bounds linux_banner.
	maxBannerLen = 512
	// cacheSchema names the set of fields a cached profile holds. It is
	// part of the file name, so a profile cached before fields were added
	// (which would load them as Absent) is parsed again instead of used.
	cacheSchema = "v3"
)

// ErrNoSymbol is returned when a symbol the offsets need is missing.
var ErrNoSymbol = errors.New("kernel symbol missing")

// parsed caches offsets by their BTF's hash for the life of the
// process: parsing BTF costs a tenth of a second and more.
var parsed sync.Map // string -> *Offsets

// FromGuest returns the offsets of the kernel running in a guest, from the
// BTF between __start_BTF and __stop_BTF in its memory. syms must know the
// image's physical address (ksym.Scan). Results are cached in this process
// and, if cacheDir is not empty, as profiles in cacheDir, keyed by a hash
// of the BTF itself: a guest cannot pass its kernel off as another by its
// banner, and a cached profile saves the parse, not the read. The caller
// gets its own copy.
func FromGuest(mem vmi.PhysMem, syms *ksym.Table, cacheDir string) (*Offsets, error) {
	start, stop, err := btfRange(syms)
	if err != nil {
		return nil, err
	}
	banner, err := readBanner(mem, syms)
	if err != nil {
		return nil, err
	}
	raw := make([]byte, stop-start)
	if err := readVirt(mem, syms, start, raw); err != nil {
		return nil, fmt.Errorf("reading guest BTF: %w", err)
	}
	sum := sha256.Sum256(raw)
	key := hex.EncodeToString(sum[:16])
	if o, err := FromCache(cacheDir, key); err == nil {
		return o, nil
	}
	o, err := FromBTF(raw)
	if err != nil {
		return nil, err
	}
	o.Kernel, o.key = banner, key
	parsed.Store(key, o)
	if cacheDir != "" {
		if err := writeProfileFile(CacheFile(cacheDir, key), o); err != nil {
			return nil, fmt.Errorf("caching offsets: %w", err)
		}
	}
	return clone(o), nil
}

// FromCache returns the offsets FromGuest cached under key (their
// CacheKey) in this process or in cacheDir, without reading the guest: for
// a caller that knows the guest runs the very kernel image it saw then.
// os.ErrNotExist when nothing is cached under key.
func FromCache(cacheDir, key string) (*Offsets, error) {
	if o, ok := parsed.Load(key); ok {
		return clone(o.(*Offsets)), nil
	}
	if _, err := hex.DecodeString(key); cacheDir == "" || key == "" || err != nil {
		return nil, os.ErrNotExist
	}
	o, err := loadProfileFile(CacheFile(cacheDir, key))
	if err != nil {
		return nil, err
	}
	o.key = key
	parsed.Store(key, o)
	return clone(o), nil
}

// CacheKey names o in FromCache: a hash of the BTF o was read from; ""
// for offsets from elsewhere (a profile file).
func (o *Offsets) CacheKey() string { return o.key }

// CacheFile is where FromGuest keeps, in cacheDir, the profile it names key.
func CacheFile(cacheDir, key string) string {
	return filepath.Join(cacheDir, key+"-"+cacheSchema+".json")
}

// CurrentTaskGS returns where the pointer to a CPU's running task is,
// relative to that CPU's GS base (the per-cpu area; in kernel mode the GS
// base, in user mode MSR_KERNEL_GS_BASE). The result is added to the GS
// base as a virtual address.
func (o *Offsets) CurrentTaskGS(syms *ksym.Table) (uint64, error) {
	if o.Current.Symbol == "" || o.Current.Offset < 0 {
		return 0, fmt.Errorf("%w: per_cpu_current", ErrIncomplete)
	}
	addr, ok := syms.Lookup(o.Current.Symbol)
	if !ok {
		return 0, fmt.Errorf("%w: %s", ErrNoSymbol, o.Current.Symbol)
	}
	return addr + uint64(o.Current.Offset), nil
}

func btfRange(syms *ksym.Table) (start, stop uint64, err error) {
	start, ok1 := syms.Lookup("__start_BTF")
	stop, ok2 := syms.Lookup("__stop_BTF")
	if !ok1 || !ok2 {
		return 0, 0, ErrNoBTF
	}
	if stop <= start || stop-start > maxBTFSize {
		return 0, 0, fmt.Errorf("%w: __start_BTF %#x, __stop_BTF %#x", ErrNoBTF, start, stop)
	}
	return start, stop, nil
}

// readBanner reads linux_banner ("Linux version ..."), which names the
// build for people.
func readBanner(mem vmi.PhysMem, syms *ksym.Table) (string, error) {
	addr, ok := syms.Lookup("linux_banner")
	if !ok {
		return "", fmt.Errorf("%w: linux_banner", ErrNoSymbol)
	}
	buf := make([]byte, maxBannerLen)
	if err := readVirt(mem, syms, addr, buf); err != nil {
		return "", fmt.Errorf("reading linux_banner: %w", err)
	}
	if i := bytes.IndexByte(buf, 0); i >= 0 {
		buf = buf[:i]
	}
	return string(bytes.TrimSpace(buf)), nil
}

// readVirt reads kernel-image bytes through the image's physical address.
func readVirt(mem vmi.PhysMem, syms *ksym.Table, virt uint64, p []byte) error {
	pa, ok := syms.Phys(virt)
	if !ok {
		return fmt.Errorf("%#x is not in the kernel image, or its physical address is unknown", virt)
	}
	return mem.ReadPhys(p, pa)
}

func clone(o *Offsets) *Offsets {
	c := *o
	return &c
}

func loadProfileFile(path string) (*Offsets, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return LoadProfile(f)
}

// writeProfileFile writes atomically, so concurrent runs never read half a
// profile.
func writeProfileFile(path string, o *Offsets) error {
	var b bytes.Buffer
	if err := o.WriteProfile(&b); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return renameio.WriteFile(path, b.Bytes(), 0o644)
}
