package api

import "sync"

// BreakSet is the breakpoints armed on a session, for the sessions that
// implement Break and ClearBreak. The zero value is empty and ready; it is
// safe for concurrent use.
type BreakSet struct {
	mu sync.Mutex
	m  map[Breakpoint]bool
}

// Arm adds b.
func (s *BreakSet) Arm(b Breakpoint) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[Breakpoint]bool)
	}
	s.m[b] = true
}

// Clear removes b.
func (s *BreakSet) Clear(b Breakpoint) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, b)
}

// Holds says whether a break holds sc: one on its name at its direction,
// for every process or for sc's.
func (s *BreakSet) Holds(sc *Syscall) bool {
	exit := sc.Direction == Exit
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[Breakpoint{Name: sc.Name, Exit: exit}] || s.m[Breakpoint{Name: sc.Name, PID: sc.Process.PID, Exit: exit}]
}
