package api

import "testing"

func TestBreakSet(t *testing.T) {
	var s BreakSet
	open := &Syscall{Name: "openat", Process: Process{PID: 7}}
	exit := &Syscall{Name: "openat", Direction: Exit, Process: Process{PID: 7}}
	if s.Holds(open) {
		t.Fatal("an empty set holds")
	}
	s.Arm(Breakpoint{Name: "openat", PID: 8})
	if s.Holds(open) {
		t.Error("a break on pid 8 holds pid 7's call")
	}
	s.Arm(Breakpoint{Name: "openat", PID: 7})
	if !s.Holds(open) || s.Holds(exit) {
		t.Error("a break at entry must hold the entry only")
	}
	s.Arm(Breakpoint{Name: "openat", Exit: true})
	if !s.Holds(exit) {
		t.Error("a break at exit for every process does not hold the exit")
	}
	s.Clear(Breakpoint{Name: "openat", PID: 7})
	if s.Holds(open) {
		t.Error("a cleared break still holds")
	}
}
