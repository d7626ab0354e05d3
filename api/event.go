package api

import (
	"fmt"
	"strings"
	"time"
)

// Direction says whether an event is a system call entering or leaving the kernel.
type Direction uint8

const (
	Enter Direction = iota
	Exit
)

func (d Direction) String() string {
	switch d {
	case Enter:
		return "enter"
	case Exit:
		return "exit"
	}
	return fmt.Sprintf("direction(%d)", uint8(d))
}

// ABI is the convention a system call was made with: its numbering and
// the registers that carry its arguments.
type ABI uint8

const (
	// X8664 is the 64-bit convention: the syscall instruction, x86-64
	// numbers, arguments in rdi, rsi, rdx, r10, r8, r9.
	X8664 ABI = iota
	// I386 is the 32-bit (compat) convention of int 0x80, sysenter and
	// 32-bit syscall: i386 numbers, arguments in ebx, ecx, edx, esi, edi,
	// ebp. A 64-bit program may use it too, through int 0x80.
	I386
)

func (a ABI) String() string {
	if a == I386 {
		return "i386"
	}
	return "x86_64"
}

// Process is a guest task: the one that made a system call, or one of a
// process listing. Comm and Image are raw guest text: escape them before
// showing them.
type Process struct {
	PID  int    // thread group id (what ps calls the pid)
	TID  int    // the thread's own id
	PPID int    // the parent process's thread group id
	Comm string // the task's name, at most 15 bytes in Linux
	UID  uint32
	Task uint64 // guest-virtual address of the task structure; 0 if unknown
	// Image is the program's full path where the back end knows it (a
	// process listing's Windows processes); "" otherwise.
	Image string
	// NotThread marks a listing's row of a process that stands for the
	// process alone: Windows lists a process apart from its threads, where
	// Linux's row of a process (TID == PID) is its main thread. Counting
	// threads leaves such a row out.
	NotThread bool
	// Hidden is set, in a listing, on a task that some of the kernel's
	// views of its tasks lack while others hold it: what a rootkit hiding
	// a process leaves. nil when every view agrees.
	Hidden *Hiding `json:",omitempty"`
}

// Hiding names the views of the guest's tasks (ViewTaskList, ...) that
// hold a task and those that lack it.
type Hiding struct {
	In      []string `json:"in"`
	Missing []string `json:"missing"`
}

// The views of a guest's tasks a back end compares to find hidden ones.
const (
	ViewTaskList = "task list" // the kernel's list of processes (Linux: init_task.tasks)
	ViewPidTable = "pid table" // the table pids are looked up in (Linux: init_pid_ns's idr, what /proc reads)
	ViewRunQueue = "run queue" // what a CPU runs
	ViewSyscalls = "syscalls"  // the tasks seen making system calls
)

// String says where a task is and is not, as one line: "in the pid table
// and syscalls, not in the task list".
func (h *Hiding) String() string {
	return "in the " + strings.Join(h.In, " and ") + ", not in the " + strings.Join(h.Missing, " and ")
}

// Arg is one system call argument: its raw register value and its decoded,
// strace-style text (already escaped: safe to print to a terminal).
type Arg struct {
	Raw  uint64
	Text string
	// Out says the call writes the argument. strace prints an argument the
	// call writes, and those after it, when the call returns: a call split
	// by another thread's shows them in its resumed part, with what the
	// call wrote, not in its unfinished part.
	Out bool
}

// Syscall is one system call event in guest terms, with every text a face
// shows rendered by the guest's back end. An exit event carries the entry's
// arguments again (decoded with out-parameters filled in where the call
// wrote them) and the return value.
type Syscall struct {
	Seq       uint64 // position in the stream, from 1
	Time      time.Time
	VCPU      int
	Direction Direction
	ABI       ABI
	Nr        uint64
	Name      string // e.g. "openat"; "syscall_N" when unknown
	Process   Process
	Args      []Arg
	Ret       int64  // exit only: the raw return value as the kernel returned it
	Errno     string // exit only: e.g. "ENOENT" when Ret is -errno, else ""
	Matched   bool   // exit only: the entry of this call was seen
	// RetText is what follows " = " as strace shows it: on an exit the
	// return value ("3", "0x55d000", "-1 ENOENT (No such file or
	// directory)", "? ERESTARTSYS (...)", with " (INJECTED)" when nitro
	// made the call fail); on an entry "?" for a call that never returns,
	// else "". Escaped like Args.
	RetText string
	// Injected says the call did not run: nitro skipped it and set its
	// return value (fault injection).
	Injected bool
}

// IsExit says whether the event is the call's exit (else its entry).
func (s *Syscall) IsExit() bool { return s.Direction == Exit }

// Failed says whether an exit returned an error.
func (s *Syscall) Failed() bool { return s.Direction == Exit && s.Errno != "" }

// NoReturn says whether the event is the entry of a call that never
// returns (exit_group): it is shown whole at once, with " = ?".
func (s *Syscall) NoReturn() bool { return s.Direction == Enter && s.RetText != "" }
