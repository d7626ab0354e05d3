// Package strace decodes Linux x86-64 system calls the way strace prints
// them: a built-in table of every call's name and argument kinds (Linux
// 6.12, generated from syscalls_x86_64.txt), and pure decoders that turn the
// six argument registers, the return value and the calling process's memory
// (read through the Memory interface) into terminal-safe, strace-style text.
//
// It knows nothing of how the guest was stopped or how its memory is read:
// the Linux back end supplies registers and a Memory for each event:
//
//	d := strace.NewDecoder(strace.Options{})          // one per vCPU goroutine
//	d.Enter(&sc, regs.RAX, strace.ArgRegs(&regs), mem) // at entry: rax is the number
//	d.Exit(&sc, nr, args, regs.RAX, mem, entryArgs)    // at exit: rax is the result
//	line := sc.Name + "(" + ... + ") = " + strace.Result(&sc)
//
// Reads of guest memory are bounded by Options whatever the guest passes;
// an unreadable pointer is shown as strace does, in hex, and every string
// goes through internal/escape.
//
// Where the text differs from strace's on purpose or for now:
//   - non-printable bytes are \xNN (internal/escape), where strace writes
//     octal (\33) unless run with -x;
//   - arguments are one per register in kernel order, so clone shows
//     clone(flags, stack, parent_tid, child_tid, tls) without strace's
//     "flags=" labels and reordering;
//   - structures strace decodes but this package does not yet (poll fds,
//     msghdr, rlimit, itimerval, sched_attr, io_uring...) are pointers;
//     ioctl requests outside a small tty/file set are hex, not _IOC(...).
package strace

//go:generate go run gen_table.go
