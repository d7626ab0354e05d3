package uitest

import (
	"fmt"
	"strings"
	"time"

	"nitro/api"
)

// Epoch is the fixed clock of every synthetic event: tests set time.Local to
// UTC so rendered times do not depend on the machine.
var Epoch = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// Hostile is a comm that would clear the screen and retitle the terminal if
// shown unescaped.
const Hostile = "\x1b[2J\x1b]0;pwn\x07"

// Procs is the synthetic guest's process tree.
var Procs = []api.Process{
	{PID: 1, TID: 1, PPID: 0, Comm: "init"},
	{PID: 42, TID: 42, PPID: 1, Comm: "sh"},
	{PID: 42, TID: 43, PPID: 1, Comm: "sh-worker"}, // a thread: not a row of the tree
	{PID: 77, TID: 77, PPID: 42, Comm: "cat"},
	{PID: 99, TID: 99, PPID: 1, Comm: Hostile},
}

// Proc returns the backend process of one of Procs (TID = PID).
func Proc(pid int) api.Process {
	for _, p := range Procs {
		if p.PID == pid {
			return api.Process{PID: p.PID, TID: p.PID, PPID: p.PPID, Comm: p.Comm}
		}
	}
	return api.Process{PID: pid, TID: pid, Comm: fmt.Sprintf("p%d", pid)}
}

// Call describes one synthetic call: its entry and exit are built from it.
type Call struct {
	PID   int
	VCPU  int
	Name  string
	Nr    uint64
	Args  []api.Arg
	Ret   int64
	Errno string
	// RetText is the return as the Linux back end renders it.
	RetText string
}

// script is the loop Stream plays: a cat of /etc/passwd with a failure, an
// mmap with a large return, and a hostile process writing.
var script = []Call{
	{PID: 77, VCPU: 0, Name: "openat", Nr: 257, Args: args(0xffffff9c, "AT_FDCWD", 0x7ffd1000, `"/etc/passwd"`, 0, "O_RDONLY"), Ret: 3, RetText: "3"},
	{PID: 77, VCPU: 0, Name: "read", Nr: 0, Args: args(3, "3", 0x7ffd2000, `"root:x:0:0:root:/root:/bin/sh\n"...`, 4096, "4096"), Ret: 4096, RetText: "4096"},
	{PID: 42, VCPU: 1, Name: "openat", Nr: 257, Args: args(0xffffff9c, "AT_FDCWD", 0x7ffd3000, `"/nonexistent"`, 0, "O_RDONLY"), Ret: -2, Errno: "ENOENT",
		RetText: "-1 ENOENT (No such file or directory)"},
	{PID: 42, VCPU: 1, Name: "mmap", Nr: 9, Args: args(0, "NULL", 8192, "8192", 3, "PROT_READ|PROT_WRITE"), Ret: 0x7f1234560000, RetText: "0x7f1234560000"},
	{PID: 99, VCPU: 1, Name: "write", Nr: 1, Args: args(1, "1", 0x7ffd4000, `"\x1b[2J"`, 4, "4"), Ret: 4, RetText: "4"},
	{PID: 77, VCPU: 0, Name: "close", Nr: 3, Args: args(3, "3"), Ret: 0, RetText: "0"},
}

func args(pairs ...any) []api.Arg {
	var out []api.Arg
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, api.Arg{Raw: uint64(pairs[i].(int)), Text: pairs[i+1].(string)})
	}
	return out
}

func fresh(args []api.Arg) []api.Arg {
	out := make([]api.Arg, len(args))
	for i, a := range args {
		out[i] = api.Arg{Raw: a.Raw, Text: strings.Clone(a.Text)}
	}
	return out
}

// Script returns the calls Stream loops over.
func Script() []Call { return append([]Call(nil), script...) }

// Enter is c's entry event.
func (c Call) Enter(seq uint64, at time.Time) api.Syscall {
	return api.Syscall{Seq: seq, Time: at, VCPU: c.VCPU, Direction: api.Enter, Nr: c.Nr, Name: c.Name,
		Process: Proc(c.PID), Args: c.Args}
}

// Exit is c's exit event.
func (c Call) Exit(seq uint64, at time.Time) api.Syscall {
	s := c.Enter(seq, at)
	s.Direction, s.Ret, s.Errno, s.RetText, s.Matched = api.Exit, c.Ret, c.Errno, c.RetText, true
	return s
}

// Stream is a deterministic stream of n events from seq first on: the script
// over and over, each call's entry then its exit, one millisecond apart.
// Every event has its own argument slice and strings, as decoded events do,
// so memory measures are honest.
func Stream(first uint64, n int) []api.Syscall {
	out := make([]api.Syscall, 0, n)
	for i := 0; i < n; i++ {
		seq := first + uint64(i)
		c := script[int((seq-1)/2)%len(script)]
		at := Epoch.Add(time.Duration(seq) * time.Millisecond)
		c.Args = fresh(c.Args)
		if seq%2 == 1 {
			out = append(out, c.Enter(seq, at))
		} else {
			out = append(out, c.Exit(seq, at))
		}
	}
	return out
}
