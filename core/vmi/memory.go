package vmi

import (
	"encoding/binary"
	"fmt"
	"sync"
)

// maxCachedPages and maxCachedTables bound the caches: a guest that
// touches many pages between two invalidations costs a refill, not
// unbounded memory.
const (
	maxCachedPages  = 1 << 16
	maxCachedTables = 1 << 10 // 4 MiB of page-table pages
)

// Memory is guest memory read through x86-64 paging. It caches
// translations keyed by (page-table root, virtual page), and the
// page-table pages the walks read, so walks that share tables (all of the
// kernel half, neighbouring user pages) read each table once. Page tables
// change while the guest runs, so the caller calls Invalidate on every new
// stop. It is safe for concurrent use.
type Memory struct {
	phys PhysMem

	mu     sync.Mutex
	pages  map[pageKey]uint64         // guest-physical page of each translated virtual page
	tables map[uint64]*[pageSize]byte // page-table pages by guest-physical address
	spare  []*[pageSize]byte          // table buffers kept from the last Invalidate
}

type pageKey struct {
	root uint64 // CR3 frame, with bit 0 set for 5-level paging
	page uint64 // virtual address &^ pageMask
}

// NewMemory reads guest-virtual memory through phys.
func NewMemory(phys PhysMem) *Memory {
	return &Memory{phys: phys, pages: make(map[pageKey]uint64), tables: make(map[uint64]*[pageSize]byte)}
}

// Phys returns the physical memory source.
func (m *Memory) Phys() PhysMem { return m.phys }

// Invalidate drops every cached translation.
func (m *Memory) Invalidate() {
	m.mu.Lock()
	clear(m.pages)
	m.dropTables()
	m.mu.Unlock()
}

// dropTables empties the table cache, keeping the buffers for reuse: a
// fresh stop refills it, and fresh buffers would cost page faults.
func (m *Memory) dropTables() {
	for _, t := range m.tables {
		m.spare = append(m.spare, t)
	}
	clear(m.tables)
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
	m.mu.Lock()
	pa, ok := m.pages[key]
	m.mu.Unlock()
	if ok {
		return pa | va&pageMask, nil
	}
	pa, err := walk(m.entry, cr3, la57, va)
	if err != nil {
		return 0, err
	}
	m.mu.Lock()
	if len(m.pages) >= maxCachedPages {
		clear(m.pages)
	}
	m.pages[key] = pa &^ pageMask
	m.mu.Unlock()
	return pa, nil
}

// entry reads a page-table entry, reading and caching its whole table page
// on a miss: one read of the source costs about the same for 8 bytes as for
// a page. Where the page cannot be read whole, only the entry is read.
func (m *Memory) entry(pa uint64) (uint64, error) {
	base, off := pa&^pageMask, pa&pageMask
	m.mu.Lock()
	table := m.tables[base]
	m.mu.Unlock()
	if table == nil {
		table = m.buffer()
		if err := m.phys.ReadPhys(table[:], base); err != nil {
			m.mu.Lock()
			m.spare = append(m.spare, table)
			m.mu.Unlock()
			var b [8]byte
			if err := m.phys.ReadPhys(b[:], pa); err != nil {
				return 0, err
			}
			return binary.LittleEndian.Uint64(b[:]), nil
		}
		m.mu.Lock()
		if len(m.tables) >= maxCachedTables {
			m.dropTables()
		}
		m.tables[base] = table
		m.mu.Unlock()
	}
	return binary.LittleEndian.Uint64(table[off:]), nil
}

// buffer returns a spare table buffer, or a new one.
func (m *Memory) buffer() *[pageSize]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n := len(m.spare); n > 0 {
		t := m.spare[n-1]
		m.spare = m.spare[:n-1]
		return t
	}
	return new([pageSize]byte)
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
	return s.access(p, va, s.mem.phys.ReadPhys)
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
