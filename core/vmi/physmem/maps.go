package physmem

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// mapping is one readable line of /proc/PID/maps.
type mapping struct {
	start, end uint64
	offset     uint64 // file offset of start
	shared     bool   // MAP_SHARED: the file holds the very pages the process sees
	path       string // "" for anonymous memory
}

type mappings []mapping

func readMaps(pid int) (mappings, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil, fmt.Errorf("reading the memory map of process %d: %w", pid, err)
	}
	defer f.Close()
	var ms mappings
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 7f3613e00000-7f3633e00000 rw-s 00000000 00:01 1035   /memfd:pc.ram (deleted)
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || len(fields[1]) != 4 || fields[1][0] != 'r' {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		off, err3 := strconv.ParseUint(fields[2], 16, 64)
		if !ok || err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("process %d maps: bad line %q", pid, sc.Text())
		}
		m := mapping{start: start, end: end, offset: off, shared: fields[1][3] == 's'}
		if len(fields) > 5 {
			m.path = strings.Join(fields[5:], " ")
		}
		ms = append(ms, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the memory map of process %d: %w", pid, err)
	}
	return ms, nil
}

// covers reports whether [addr, addr+size) lies in readable mappings with
// no gap (QEMU may split one RAM block into several mappings).
func (ms mappings) covers(addr, size uint64) bool {
	end := addr + size
	if end < addr {
		return false
	}
	for _, m := range ms { // sorted by address, as the kernel lists them
		if m.end <= addr || m.start > addr {
			continue
		}
		if m.end >= end {
			return true
		}
		addr = m.end
	}
	return false
}

// view is a shared mapping of the other process mapped here as well:
// host address start in that process is b[0] here, and offset in file.
type view struct {
	start    uint64
	b        []byte
	writable bool
	file     *os.File // kept open to ask it for holes (see fileData)
	offset   uint64
}

// mapShared maps here the shared file mappings of process pid that hold
// guest RAM, through /proc/PID/map_files. It is best effort: what cannot be
// mapped is read with system calls instead. Private mappings never qualify:
// the file does not hold their copied-on-write pages.
func mapShared(pid int, maps mappings, ranges []Range) []view {
	var views []view
	for _, m := range maps {
		if !m.shared || m.path == "" || !holdsRAM(m, ranges) {
			continue
		}
		if v, ok := mapFile(pid, m); ok {
			views = append(views, v)
		}
	}
	return views
}

func holdsRAM(m mapping, ranges []Range) bool {
	for _, r := range ranges {
		if r.Off < m.end && r.Off+r.Size > m.start {
			return true
		}
	}
	return false
}

func mapFile(pid int, m mapping) (view, bool) {
	path := fmt.Sprintf("/proc/%d/map_files/%x-%x", pid, m.start, m.end)
	prot, writable := unix.PROT_READ|unix.PROT_WRITE, true
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		if f, err = os.Open(path); err != nil {
			return view{}, false
		}
		prot, writable = unix.PROT_READ, false
	}
	if m.offset > 1<<62 {
		f.Close()
		return view{}, false
	}
	b, err := unix.Mmap(int(f.Fd()), int64(m.offset), int(m.end-m.start), prot, unix.MAP_SHARED)
	if err != nil {
		f.Close()
		return view{}, false
	}
	return view{start: m.start, b: b, writable: writable, file: f, offset: m.offset}, true
}

// viewAt returns the view holding host address addr.
func (ps *procStore) viewAt(addr uint64) (view, bool) {
	for _, v := range ps.views {
		if addr >= v.start && addr-v.start < uint64(len(v.b)) {
			return v, true
		}
	}
	return view{}, false
}

// nextView returns where the first view above addr starts (the end of the
// address space when none does).
func (ps *procStore) nextView(addr uint64) uint64 {
	next := ^uint64(0)
	for _, v := range ps.views {
		if v.start > addr {
			next = min(next, v.start)
		}
	}
	return next
}

// view returns the local bytes of [addr, addr+n) when one view holds them all.
func (ps *procStore) view(addr uint64, n int, write bool) []byte {
	for _, v := range ps.views {
		if addr >= v.start && addr-v.start <= uint64(len(v.b)) && uint64(n) <= uint64(len(v.b))-(addr-v.start) {
			if write && !v.writable {
				return nil
			}
			off := addr - v.start
			return v.b[off : off+uint64(n)]
		}
	}
	return nil
}
