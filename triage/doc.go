// Package triage turns a guest's system calls into findings: what a
// suspicious guest is doing, with the calls that show it. It is a face: it
// sees the guest through package api only.
//
// Rules are JSON, a list of items as Falco's YAML lists them (JSON is a
// subset of YAML, and encoding/json reads it, reporting the line of a
// mistake):
//
//	[
//	  {"list": "shell_binaries", "items": ["sh", "bash"]},
//	  {"macro": "spawned_process", "condition": "evt.type in ['execve', 'execveat'] and not evt.failed"},
//	  {"rule": "shell_spawned", "severity": "warning",
//	   "why": "a shell started by a process that is not a shell",
//	   "condition": "spawned_process and proc.name in shell_binaries and not (proc.pname in shell_binaries)"}
//	]
//
// A condition is an expression of expr-lang/expr over the fields of Env,
// named as Falco names them (evt.type, evt.res, proc.name, proc.pname,
// proc.exepath, fd.name, fs.path.target, user.uid...). A list or macro name
// in a condition stands for the list or the macro's condition. A rule with
// "threshold" fires when its condition holds count times within a window
// for one process (a rate). Conditions are compiled once, when the rules
// are loaded.
//
// The Engine evaluates the rules at each call's exit, when its result is
// known (and at the entry of a call that never returns), with the context
// a single call lacks: the process's parent's name, the program it runs,
// the files and sockets behind its descriptors, its uid at the call's
// entry. That state is kept per process and bounded (maxProcs, maxFDs),
// so a guest cannot make nitro grow without limit. A rule whose condition
// requires evt.type to be one of some calls runs only on those calls (as
// Falco indexes its rules): most calls run no rule at all.
//
// Findings are kept per rule and process: the first time a rule fires for
// a process, and every time after, counted, with the first evidence calls
// (their seq, for replay --at and the TUI's jump) and their text as
// strace shows it.
//
// With KeepActivity the engine also gathers, from the same state, what the
// processes did: the files (Files), the sockets (Network), the exec
// lineage with the processes that exited (Execs), each bounded by
// maxActivity rows.
package triage
