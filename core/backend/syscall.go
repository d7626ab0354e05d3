package backend

import (
	"time"

	"nitro/core/kvm"
)

// Process is the guest task that made a system call, as read from guest
// memory at the event. Comm is raw guest bytes: escape it before showing it.
type Process struct {
	PID  int    // thread group id (what ps calls the pid)
	TID  int    // the thread's own id
	PPID int    // the parent process's thread group id
	Comm string // the task's comm, at most 15 bytes in Linux
	UID  uint32
	Task uint64 // guest-virtual address of the task structure; 0 if unknown
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

// Arg is one system call argument: its raw register value and its decoded,
// strace-style text (already escaped: safe to print to a terminal).
type Arg struct {
	Raw  uint64
	Text string
}

// Syscall is one system call event in guest terms. An exit event carries the
// entry's arguments again (decoded with out-parameters filled in where the
// call wrote them) and the return value.
type Syscall struct {
	Seq       uint64 // position in the stream, from 1
	Time      time.Time
	VCPU      int
	Direction kvm.Direction
	ABI       ABI
	Nr        uint64
	Name      string // e.g. "openat"; "syscall_N" when unknown
	Process   Process
	Args      []Arg
	Ret       int64  // exit only: the raw return value as the kernel returned it
	Errno     string // exit only: e.g. "ENOENT" when Ret is -errno, else ""
	Matched   bool   // exit only: the entry of this call was seen
}

// IsExit says whether the event is the call's exit (else its entry).
func (s *Syscall) IsExit() bool { return s.Direction == kvm.Exit }

// Failed says whether an exit returned an error.
func (s *Syscall) Failed() bool { return s.Direction == kvm.Exit && s.Errno != "" }
