package calls

import (
	"slices"
	"sort"
	"time"

	"nitro/api"
)

// DefaultLimit is how many rows a Store keeps when not told otherwise.
const DefaultLimit = 100_000

// maxProcs bounds the per-process table: a guest that forks without end must
// not grow the viewer's memory without end. Processes past it are not counted.
const maxProcs = 1 << 16

// Row is one line of the syscall pane: an entry, completed in place when its
// exit arrives. An exit whose entry was never seen is a row of its own.
type Row struct {
	Call     api.Syscall // the entry's fields; Ret and Errno once Done; Args the exit's when it had any
	Done     bool        // the exit arrived
	Orphan   bool        // an exit with no entry seen
	ExitTime time.Time
}

// Failed says whether the call returned an error.
func (r *Row) Failed() bool { return r.Done && r.Call.Errno != "" }

// Proc is what the stream taught about one process.
type Proc struct {
	PID, PPID int
	Comm      string // raw guest bytes
	Calls     uint64
	missed    bool // the latest process list did not name it, and it made no call since
}

type openKey struct {
	tid int
	nr  uint64
}

// Store is the ring of rows. Positions (what the pane scrolls through) count
// only the rows the filter keeps; absolute indexes count every row ever added.
type Store struct {
	limit uint64
	rows  []Row  // grows to limit, then wraps
	first uint64 // absolute index of the oldest row kept
	next  uint64 // absolute index the next row gets
	open  map[openKey]uint64
	procs map[int]*Proc
	// procsGen counts the changes of procs but their call counts.
	procsGen uint64

	filter Filter
	match  []uint64 // absolute indexes the filter keeps, ascending; used when the filter is not empty
}

// New returns a Store that keeps at most limit rows (DefaultLimit when limit <= 0).
func New(limit int) *Store {
	if limit <= 0 {
		limit = DefaultLimit
	}
	return &Store{
		limit: uint64(limit),
		rows:  make([]Row, 0, min(limit, 1024)), // a quiet guest need not cost the whole ring
		open:  make(map[openKey]uint64),
		procs: make(map[int]*Proc),
	}
}

// Limit is how many rows the store keeps.
func (s *Store) Limit() int { return int(s.limit) }

// Add takes a batch in stream order.
func (s *Store) Add(batch []api.Syscall) {
	for i := range batch {
		c := &batch[i]
		if c.IsExit() && s.complete(c) {
			continue
		}
		s.count(c)
		s.push(Row{Call: *c, Done: c.IsExit(), Orphan: c.IsExit(), ExitTime: exitTime(c)})
	}
}

func exitTime(c *api.Syscall) time.Time {
	if c.IsExit() {
		return c.Time
	}
	return time.Time{}
}

// complete finishes the most recent unfinished entry of the same thread and
// call number; false when there is none.
func (s *Store) complete(exit *api.Syscall) bool {
	k := openKey{exit.Process.TID, exit.Nr}
	abs, ok := s.open[k]
	if !ok {
		return false
	}
	delete(s.open, k)
	r := s.row(abs)
	was := s.filter.Match(r)
	r.Done = true
	r.Call.Ret = exit.Ret
	r.Call.Errno = exit.Errno
	r.Call.RetText = exit.RetText
	r.Call.Injected = exit.Injected
	r.Call.Matched = true
	r.ExitTime = exit.Time
	if len(exit.Args) > 0 {
		r.Call.Args = exit.Args
	}
	if !s.filter.Empty() {
		if now := s.filter.Match(r); now != was {
			s.reindex(abs, now)
		}
	}
	return true
}

func (s *Store) count(c *api.Syscall) {
	p, ok := s.procs[c.Process.PID]
	if !ok {
		if len(s.procs) >= maxProcs {
			return
		}
		p = &Proc{PID: c.Process.PID}
		s.procs[c.Process.PID] = p
		s.procsGen++
	}
	if p.PPID != c.Process.PPID || p.Comm != c.Process.Comm {
		p.PPID, p.Comm = c.Process.PPID, c.Process.Comm
		s.procsGen++
	}
	p.Calls++
	p.missed = false
}

// Forget drops the processes that have exited, so that a guest that runs
// processes without end does not grow the table: those that alive, a
// process list of the guest, leaves out twice in a row with no call in
// between. Once is not enough: a list taken as a process starts misses it.
func (s *Store) Forget(alive []api.Process) {
	live := make(map[int]bool, len(alive))
	for _, p := range alive {
		live[p.PID] = true
	}
	for pid, p := range s.procs {
		switch {
		case live[pid]:
			p.missed = false
		case p.missed:
			delete(s.procs, pid)
			s.procsGen++
		default:
			p.missed = true
		}
	}
}

func (s *Store) push(r Row) {
	if s.next-s.first == s.limit {
		s.evict()
	}
	abs := s.next
	if uint64(len(s.rows)) < s.limit {
		if len(s.rows) == cap(s.rows) {
			// Double, where append grows a large slice by a quarter: a
			// flood fills the ring with a few copies of it, not dozens.
			s.rows = slices.Grow(s.rows, min(len(s.rows), int(s.limit)-len(s.rows)))
		}
		s.rows = append(s.rows, r) // abs == len(rows) until the ring is full
	} else {
		s.rows[abs%s.limit] = r
	}
	s.next++
	if !r.Done {
		s.open[openKey{r.Call.Process.TID, r.Call.Nr}] = abs
	}
	if !s.filter.Empty() && s.filter.Match(&r) {
		s.match = append(s.match, abs)
	}
}

func (s *Store) evict() {
	old := s.row(s.first)
	k := openKey{old.Call.Process.TID, old.Call.Nr}
	if abs, ok := s.open[k]; ok && abs == s.first {
		delete(s.open, k)
	}
	if len(s.match) > 0 && s.match[0] == s.first {
		s.match = s.match[1:]
	}
	*old = Row{} // drop references to the evicted call's strings
	s.first++
}

func (s *Store) row(abs uint64) *Row { return &s.rows[abs%s.limit] }

// reindex adds or removes abs in the filter index after a row changed.
func (s *Store) reindex(abs uint64, keep bool) {
	i := sort.Search(len(s.match), func(i int) bool { return s.match[i] >= abs })
	switch {
	case keep:
		s.match = append(s.match, 0)
		copy(s.match[i+1:], s.match[i:])
		s.match[i] = abs
	case i < len(s.match) && s.match[i] == abs:
		s.match = append(s.match[:i], s.match[i+1:]...)
	}
}

// SetFilter changes the filter and rebuilds the index over the kept rows.
func (s *Store) SetFilter(f Filter) {
	s.filter = f
	s.match = s.match[:0]
	if f.Empty() {
		return
	}
	for abs := s.first; abs < s.next; abs++ {
		if f.Match(s.row(abs)) {
			s.match = append(s.match, abs)
		}
	}
}

// Filter is the filter in use.
func (s *Store) Filter() Filter { return s.filter }

// Len is how many rows the filter keeps.
func (s *Store) Len() int {
	if s.filter.Empty() {
		return int(s.next - s.first)
	}
	return len(s.match)
}

// Kept is how many rows the ring holds, filtered or not.
func (s *Store) Kept() int { return int(s.next - s.first) }

// Abs is the absolute index of the row at position pos (0 <= pos < Len).
func (s *Store) Abs(pos int) uint64 {
	if s.filter.Empty() {
		return s.first + uint64(pos)
	}
	return s.match[pos]
}

// At is the row at position pos (0 <= pos < Len).
func (s *Store) At(pos int) *Row { return s.row(s.Abs(pos)) }

// Pos is the position of the row with absolute index abs, or of the first
// kept row after it when the filter drops it or it was evicted; Len when none.
func (s *Store) Pos(abs uint64) int {
	if s.filter.Empty() {
		if abs < s.first {
			return 0
		}
		return int(min(abs, s.next) - s.first)
	}
	return sort.Search(len(s.match), func(i int) bool { return s.match[i] >= abs })
}

// Calls is how many calls the stream showed of process pid.
func (s *Store) Calls(pid int) uint64 {
	if p, ok := s.procs[pid]; ok {
		return p.Calls
	}
	return 0
}

// ProcsGen changes whenever Procs does, but for call counts: the process
// tree lays its rows out again only then.
func (s *Store) ProcsGen() uint64 { return s.procsGen }

// Procs is every process the stream showed, in no particular order.
func (s *Store) Procs() []Proc {
	out := make([]Proc, 0, len(s.procs))
	for _, p := range s.procs {
		out = append(out, *p)
	}
	return out
}

// Reset empties the store, keeping its limit and filter, for a stream that
// starts anew: a playback that moved hands its history again.
func (s *Store) Reset() {
	f, gen := s.filter, s.procsGen
	*s = *New(int(s.limit))
	s.filter, s.procsGen = f, gen+1 // the process tree lays out again
}
