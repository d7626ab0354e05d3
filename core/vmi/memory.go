package vmi

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
)

// maxCachedPages and maxCachedEntries bound the caches: a guest that
// touches many pages between two invalidations costs a refill, not
// unbounded memory.
const (
	maxCachedPages   = 1 << 16
	maxCachedEntries = 1 << 16
)

// Memory is guest memory read through x86-64 paging. It caches
// translations keyed by (page-table root, virtual page), and the
// page-table entries the walks read, so walks that share tables (all of
// the kernel half, neighbouring user pages) read each entry once. Page tables
// change while the guest runs, so the caller calls Invalidate on every new
// stop; translations in ranges declared stable (SetStable) outlive it, the
// others are kept in a small cache of recent ones. Sources that map guest
// RAM here (HostMapped) are read directly, page-table entries included. It
// is safe for concurrent use.
type Memory struct {
	phys PhysMem
	host HostMapped // phys, when it maps guest RAM here; else nil

	mu      sync.Mutex
	gen     uint64 // Invalidate starts a new generation: older entries are stale
	recent  [recentSize]recent
	pages   map[pageKey]cached
	entries map[uint64]cached // page-table entries by guest-physical address
	stable  []Range
}

// cached is a translation (the guest-physical page of a virtual page) or
// a page-table entry, read in generation gen. A stable translation
// outlives its generation.
type cached struct {
	pa     uint64
	gen    uint64
	stable bool
}

// recentSize is the number of translations kept in Memory.recent, a
// direct-mapped cache in front of pages: the few pages an event touches
// are found there without hashing.
const recentSize = 64

type recent struct {
	key pageKey
	cached
	valid bool
}

// Range is a span of addresses, [Start, End): virtual ones for SetStable,
// guest-physical ones for Sparse.
type Range struct{ Start, End uint64 }

type pageKey struct {
	root uint64 // CR3 frame, with bit 0 set for 5-level paging
	page uint64 // virtual address &^ pageMask
}

// NewMemory reads guest-virtual memory through phys.
func NewMemory(phys PhysMem) *Memory {
	host, _ := phys.(HostMapped)
	return &Memory{phys: phys, host: host, pages: make(map[pageKey]cached), entries: make(map[uint64]cached)}
}

// readPhys reads guest-physical memory, from the host mapping when there is one.
func (m *Memory) readPhys(p []byte, pa uint64) error {
	if m.host != nil {
		if b := m.host.HostBytes(pa, len(p)); b != nil {
			copy(p, b)
			return nil
		}
	}
	return m.phys.ReadPhys(p, pa)
}

// Phys returns the physical memory source.
func (m *Memory) Phys() PhysMem { return m.phys }

// Invalidate drops every cached translation but those of stable ranges, and
// every cached page-table entry. It costs nothing now: stale entries are
// refreshed as they are used.
func (m *Memory) Invalidate() {
	m.mu.Lock()
	m.gen++
	m.mu.Unlock()
}

// SetStable declares virtual ranges whose translations never change while
// the guest runs, so that they outlive Invalidate: an OS back end knows
// them (Linux: the kernel image and the direct map of physical memory). A
// wrong declaration makes reads there stale.
func (m *Memory) SetStable(ranges ...Range) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stable = append(m.stable[:0], ranges...)
	// Cached translations carry the old ranges' verdict.
	clear(m.pages)
	m.recent = [recentSize]recent{}
}

func (m *Memory) isStable(va uint64) bool {
	for _, r := range m.stable {
		if va >= r.Start && va < r.End {
			return true
		}
	}
	return false
}

// Space returns the address space whose page tables are rooted at cr3 (PCID
// bits allowed), with the paging depth cr4 selects (CR4.LA57). The guest
// must be in long mode.
func (m *Memory) Space(cr3, cr4 uint64) Space {
	return Space{mem: m, cr3: cr3, la57: LA57(cr4)}
}

// translate returns the guest-physical address of va, from the cache when it can.
func (m *Memory) translate(cr3 uint64, la57 bool, va uint64) (uint64, error) {
	key := pageKey{root: cr3 & physAddrMask, page: va &^ pageMask}
	if la57 {
		key.root |= 1
	}
	r := &m.recent[(key.page>>pageShift^key.root>>pageShift)%recentSize]
	m.mu.Lock()
	c, ok := r.cached, r.valid && r.key == key
	if !ok {
		c, ok = m.pages[key]
	}
	ok = ok && (c.gen == m.gen || c.stable)
	if ok {
		*r = recent{key: key, cached: c, valid: true}
	}
	m.mu.Unlock()
	if ok {
		return c.pa | va&pageMask, nil
	}
	pa, _, err := walk(m.entry, cr3, la57, va)
	if err != nil {
		return 0, err
	}
	m.mu.Lock()
	c = cached{pa: pa &^ pageMask, gen: m.gen, stable: m.isStable(va)}
	if c.stable {
		// Others live until the next Invalidate: recent holds them.
		if len(m.pages) >= maxCachedPages {
			clear(m.pages)
		}
		m.pages[key] = c
	}
	*r = recent{key: key, cached: c, valid: true}
	m.mu.Unlock()
	return pa, nil
}

// entry reads a page-table entry, from the cache when this generation
// has read it: walks that share tables (the kernel half, neighbouring
// pages) read each entry once per stop.
func (m *Memory) entry(pa uint64) (uint64, error) {
	if m.host != nil {
		// Mapped memory is read faster than the cache is.
		if b := m.host.HostBytes(pa, 8); b != nil {
			return binary.LittleEndian.Uint64(b), nil
		}
	}
	m.mu.Lock()
	e, ok := m.entries[pa]
	gen := m.gen
	m.mu.Unlock()
	if ok && e.gen == gen {
		return e.pa, nil
	}
	var b [8]byte
	if err := m.phys.ReadPhys(b[:], pa); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint64(b[:])
	m.mu.Lock()
	if len(m.entries) >= maxCachedEntries {
		clear(m.entries)
	}
	m.entries[pa] = cached{pa: v, gen: gen}
	m.mu.Unlock()
	return v, nil
}

// Space is one guest address space: a page-table root and paging depth.
// It is a small value; copy it freely.
type Space struct {
	mem  *Memory
	cr3  uint64
	la57 bool
}

// CR3 returns the page-table root the space translates under.
func (s Space) CR3() uint64 { return s.cr3 }

// Kernel returns the kernel view of a PTI user address space: the same
// space translated under KernelCR3(cr3). Call it only for guests that run
// with page-table isolation (see PTIUser).
func (s Space) Kernel() Space {
	s.cr3 = KernelCR3(s.cr3)
	return s
}

// PTIUser reports whether s is the user half of a PTI page-table pair:
// its CR3 has PTIUserBit set, kernelVA is not mapped through it, and it is
// mapped through the kernel half. kernelVA must be kernel data the user
// tables never map (init_task, say), not entry text or cpu_entry_area.
func (s Space) PTIUser(kernelVA uint64) bool {
	if s.cr3&PTIUserBit == 0 {
		return false
	}
	if _, err := s.Translate(kernelVA); err == nil {
		return false
	}
	_, err := s.Kernel().Translate(kernelVA)
	return err == nil
}

// Translate returns the guest-physical address of va.
func (s Space) Translate(va uint64) (uint64, error) {
	return s.mem.translate(s.cr3, s.la57, va)
}

// Read fills p from guest-virtual address va, translating each page;
// physically contiguous pages are read in one call to the source.
func (s Space) Read(p []byte, va uint64) error {
	return s.access(p, va, s.mem.readPhys)
}

// Write stores p at guest-virtual address va. It ignores the pages'
// write protection, as a debugger does. Every page is translated before
// the first byte is written, so a page fault writes nothing.
func (s Space) Write(p []byte, va uint64) error {
	return s.access(p, va, s.mem.phys.WritePhys)
}

// run is a physically contiguous piece of a virtual access.
type run struct {
	start, end int // in the caller's buffer
	pa         uint64
}

// access translates every page of [va, va+len(p)), then runs io over the
// physically contiguous runs.
func (s Space) access(p []byte, va uint64, io func([]byte, uint64) error) error {
	var buf [4]run // a few runs cover most accesses without allocating
	runs := buf[:0]
	for off := 0; off < len(p); {
		addr := va + uint64(off)
		n := min(len(p)-off, pageSize-int(addr&pageMask))
		pa, err := s.Translate(addr)
		if err != nil {
			return err
		}
		if last := len(runs) - 1; last >= 0 && runs[last].pa+uint64(off-runs[last].start) == pa {
			runs[last].end = off + n
		} else {
			runs = append(runs, run{start: off, end: off + n, pa: pa})
		}
		off += n
	}
	for _, r := range runs {
		if err := io(p[r.start:r.end], r.pa); err != nil {
			return fmt.Errorf("virtual %#x (physical %#x, %d bytes): %w", va+uint64(r.start), r.pa, r.end-r.start, err)
		}
	}
	return nil
}

// Backing returns the guest-physical ranges that back the virtual range
// [lo, hi) in s, merged and sorted, probing its first page every step
// bytes (a multiple of the page size): with 2 MiB steps the kernel image's
// gigabyte costs 512 walks through a few cached table pages.
func (s Space) Backing(lo, hi, step uint64) []Range {
	var rs []Range
	for va := lo; va < hi && va >= lo; va += step {
		pa, err := s.Translate(va)
		if err != nil {
			continue
		}
		rs = append(rs, Range{Start: pa &^ (step - 1), End: pa&^(step-1) + step})
	}
	slices.SortFunc(rs, func(a, b Range) int { return cmp.Compare(a.Start, b.Start) })
	var out []Range
	for _, r := range rs {
		if k := len(out) - 1; k >= 0 && r.Start <= out[k].End {
			out[k].End = max(out[k].End, r.End)
			continue
		}
		out = append(out, r)
	}
	return out
}
