package linux

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/renameio/v2"
	"golang.org/x/sys/unix"

	"nitro/core/backend"
	"nitro/core/backend/linux/strace"
	"nitro/core/vmi"
	"nitro/core/vmi/ksym"
	"nitro/core/vmi/ksym/bzimage"
	"nitro/core/vmi/offsets"
)

func init() { backend.Register("linux", Open) }

// Open finds a Linux kernel's symbols and structure layout in t's memory
// (or in the files the user gave) and makes its back end.
func Open(t backend.Target) (backend.Backend, error) {
	syms, boot, err := kernelSymbols(t, t.Symbols)
	if err != nil {
		return nil, fmt.Errorf("finding the kernel's symbols: %w", err)
	}
	offs, err := kernelOffsets(t.Phys, syms, t.Profile, t.CacheDir, boot)
	if err != nil {
		return nil, fmt.Errorf("finding the kernel's structure layout: %w", err)
	}
	b, err := New(Config{Mem: t.Mem, Symbols: syms, Offsets: offs})
	if err != nil {
		return nil, fmt.Errorf("setting up the Linux back end: %w", err)
	}
	return b, nil
}

// kernelSymbols finds the kernel's symbol table in memory, or reads the
// one in file and finds where that kernel lies in memory. The boot cache
// says what is known of this boot of the kernel (scanSymbols).
func kernelSymbols(tg backend.Target, file string) (*ksym.Table, bootCache, error) {
	mem, size := tg.Phys, tg.RAMEnd
	if file == "" {
		return scanSymbols(tg)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, bootCache{}, err
	}
	var t *ksym.Table
	switch {
	case bytes.HasPrefix(raw, []byte("\x7fELF")):
		t, err = ksym.FromVmlinux(raw)
	case len(raw) > 0x206 && string(raw[0x202:0x206]) == "HdrS": // a bzImage
		var image []byte
		if image, err = bzimage.Extract(raw); err == nil {
			t, err = ksym.FromVmlinux(image)
		}
	default:
		t, err = ksym.ParseSystemMap(bytes.NewReader(raw))
	}
	if err != nil {
		return nil, bootCache{}, fmt.Errorf("%s: %w", file, err)
	}
	if err := t.Locate(mem, size); err != nil {
		return nil, bootCache{}, fmt.Errorf("%s: %w", file, err)
	}
	return t, bootCache{}, nil
}

// The kernel image's virtual range on x86-64 (__START_KERNEL_map up to
// MODULES_VADDR, Documentation/arch/x86/x86_64/mm.rst): whatever the KASLR
// slide, the image and its kallsyms tables lie here, and nothing else does.
const (
	kernelImageStart = 0xffff_ffff_8000_0000
	kernelImageEnd   = 0xffff_ffff_c000_0000
	kernelImageAlign = 2 << 20
)

// scanSymbols finds the kallsyms tables where the vCPU's page tables map
// the kernel image, a few tens of MiB whatever the guest's RAM, and sweeps
// the rest of RAM only when that fails (no vCPU state, or tables the
// image's mapping does not cover). What the image's tables decode to is
// kept in cacheDir for the next attach to the same boot.
func scanSymbols(tg backend.Target) (*ksym.Table, bootCache, error) {
	live := running(tg)
	if tg.CR3 == 0 {
		t, err := ksym.ScanLive(tg.Phys, tg.RAMEnd, live)
		return t, bootCache{}, err
	}
	image := kernelImage(tg)
	cache := symbolCache(tg, image)
	if t, err := loadSymbols(cache); err == nil && t.Placed(tg.Phys, tg.RAMEnd) == nil && live(t) == nil {
		return t, bootCache{symbols: cache, seen: true}, nil
	}
	t, err := ksym.ScanRanges(tg.Phys, tg.RAMEnd, image, live)
	if err != nil {
		t, err := ksym.ScanLive(tg.Phys, tg.RAMEnd, live)
		return t, bootCache{}, err
	}
	if cache != "" {
		// A cache that cannot be written costs the next attach time, no more.
		_ = saveSymbols(cache, t)
	}
	return t, bootCache{symbols: cache}, nil
}

// bootCache is what is cached of one boot of a kernel: its symbol table,
// and beside it the name of its structure layout in the offsets cache.
// seen says the guest runs the very image the cache was written for
// (loaded and checked against it), so the layout named there holds
// without reading and hashing the guest's BTF again.
type bootCache struct {
	symbols string // the symbol cache's path; "" for none
	seen    bool
}

func (c bootCache) layoutPath() string { return strings.TrimSuffix(c.symbols, ".ksyms") + ".layout" }

// layout returns the structure layout named beside a boot's symbols, if
// that boot was seen and the layout is still cached.
func (c bootCache) layout(cacheDir string) (*offsets.Offsets, bool) {
	if !c.seen {
		return nil, false
	}
	key, err := os.ReadFile(c.layoutPath())
	if err != nil {
		return nil, false
	}
	o, err := offsets.FromCache(cacheDir, string(key))
	return o, err == nil
}

// remember names o's layout beside the boot's symbols.
func (c bootCache) remember(o *offsets.Offsets) {
	if c.symbols != "" && o.CacheKey() != "" {
		// Unwritten, it costs the next attach a read of the BTF, no more.
		_ = renameio.WriteFile(c.layoutPath(), []byte(o.CacheKey()), 0o644)
	}
}

// symbolCache names the cache file of the kernel image at ranges: by where
// it lies (a boot's KASLR placement) and its first code, so another kernel
// or another boot looks elsewhere. The file is checked against the guest
// before use (Table.Placed, running) all the same. "" without a cache
// directory or an image.
func symbolCache(tg backend.Target, ranges []vmi.Range) string {
	if tg.CacheDir == "" || len(ranges) == 0 {
		return ""
	}
	h := sha256.New()
	for _, r := range ranges {
		h.Write(binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, r.Start), r.End))
	}
	head := make([]byte, min(64<<10, ranges[0].End-ranges[0].Start))
	if tg.Phys.ReadPhys(head, ranges[0].Start) != nil {
		return ""
	}
	h.Write(head)
	return filepath.Join(tg.CacheDir, hex.EncodeToString(h.Sum(nil)[:16])+".ksyms")
}

func loadSymbols(path string) (*ksym.Table, error) {
	if path == "" {
		return nil, os.ErrNotExist
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t := new(ksym.Table)
	if err := t.UnmarshalBinary(raw); err != nil {
		return nil, err
	}
	// Its access time says it is in use, so pruning keeps it
	// (pruneSymbols); its modification time stays when it was written.
	if fi, err := os.Stat(path); err == nil {
		_ = os.Chtimes(path, time.Now(), fi.ModTime())
	}
	return t, nil
}

// saveSymbols writes atomically, so a concurrent attach never reads half a
// table.
func saveSymbols(path string, t *ksym.Table) error {
	raw, err := t.MarshalBinary()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := renameio.WriteFile(path, raw, 0o644); err != nil {
		return err
	}
	pruneSymbols(filepath.Dir(path))
	return nil
}

// keptSymbolCaches bounds the symbol caches: each boot of a KASLR kernel
// writes one (a few MiB), so without a bound the directory grows with
// every reboot of every guest.
const keptSymbolCaches = 16

// pruneSymbols removes all but the keptSymbolCaches most recently used
// symbol caches in dir: by access time, which loadSymbols sets.
func pruneSymbols(dir string) {
	paths, _ := filepath.Glob(filepath.Join(dir, "*.ksyms"))
	if len(paths) <= keptSymbolCaches {
		return
	}
	used := make(map[string]time.Time, len(paths))
	for _, p := range paths {
		var st unix.Stat_t
		if unix.Stat(p, &st) == nil {
			used[p] = time.Unix(st.Atim.Unix())
		}
	}
	slices.SortFunc(paths, func(a, b string) int { return used[b].Compare(used[a]) })
	for _, p := range paths[keptSymbolCaches:] {
		_ = os.Remove(p)
		_ = os.Remove(bootCache{symbols: p}.layoutPath())
	}
}

// kernelImage returns the guest-physical ranges behind the kernel image's
// virtual range in the vCPU's page tables (and in the kernel half of a
// PTI pair, whose user half maps only the entry code).
func kernelImage(tg backend.Target) []vmi.Range {
	space := tg.Mem.Space(tg.CR3, tg.CR4)
	rs := space.Backing(kernelImageStart, kernelImageEnd, kernelImageAlign)
	if space.CR3()&vmi.PTIUserBit != 0 {
		rs = append(rs, space.Kernel().Backing(kernelImageStart, kernelImageEnd, kernelImageAlign)...)
	}
	return rs
}

// running accepts only the tables of the kernel that the vCPU's page
// tables map at its _text: after a reboot the earlier kernel's image, at
// another physical address, may still lie in RAM. nil (any table) when the
// vCPU's state is unknown.
func running(tg backend.Target) func(*ksym.Table) error {
	if tg.CR3 == 0 {
		return nil
	}
	space := tg.Mem.Space(tg.CR3, tg.CR4)
	return func(t *ksym.Table) error {
		text, ok := t.Text()
		phys, hasPhys := t.PhysText()
		if !ok || !hasPhys {
			return ksym.ErrNotLive
		}
		pa, err := space.Translate(text)
		if err != nil && space.CR3()&vmi.PTIUserBit != 0 {
			pa, err = space.Kernel().Translate(text) // a user half of a PTI pair
		}
		switch {
		case err != nil:
			return fmt.Errorf("%w: the running kernel does not map _text %#x: %w", ksym.ErrNotLive, text, err)
		case pa != phys:
			return fmt.Errorf("%w: the running kernel has _text %#x at %#x, this image is at %#x", ksym.ErrNotLive, text, pa, phys)
		}
		return nil
	}
}

// kernelOffsets reads the structure layout from the guest's BTF, or from a
// profile file; for a boot seen before, from the cache without the BTF.
func kernelOffsets(mem vmi.PhysMem, syms *ksym.Table, file, cache string, boot bootCache) (*offsets.Offsets, error) {
	if file == "" {
		if o, ok := boot.layout(cache); ok {
			return o, nil
		}
		o, err := offsets.FromGuest(mem, syms, cache)
		if err == nil {
			boot.remember(o)
		}
		return o, err
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	o, err := offsets.LoadProfile(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return o, nil
}

// OS is "linux".
func (b *Backend) OS() string { return "linux" }

// Kernel is the kernel's banner shortened to "Linux 6.1.0-28-amd64".
func (b *Backend) Kernel() string {
	banner := b.offsets.Kernel
	f := strings.Fields(banner)
	if len(f) >= 3 && f[1] == "version" {
		return f[0] + " " + f[2]
	}
	return banner
}

// WriteSymbols writes the kernel's symbols in /proc/kallsyms's form.
func (b *Backend) WriteSymbols(w io.Writer) error { return b.syms.WriteKallsyms(w) }

// WriteProfile writes the kernel's structure layout as a JSON profile.
func (b *Backend) WriteProfile(w io.Writer) error { return b.offsets.WriteProfile(w) }

// Number is the x86-64 number of the named system call, which the Nitro
// ioctls filter on.
func (b *Backend) Number(name string) (uint64, error) { return strace.Lookup(name) }

var _ backend.Backend = (*Backend)(nil)
