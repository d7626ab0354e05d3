// Package strace decodes Linux x86-64 system calls the way strace prints
// them, made with either convention: the 64-bit one (syscall) or the i386
// one (int 0x80, sysenter, 32-bit syscall), which 32-bit programs use and
// 64-bit ones may. It holds a built-in table per ABI of every call's name
// and argument kinds (Linux 6.12, generated from syscalls_x86_64.txt and
// syscalls_i386.txt; For returns one), and pure decoders that turn the six
// argument registers, the return value and the calling process's memory
// (read through the Memory interface) into terminal-safe, strace-style text.
//
// It knows nothing of how the guest was stopped or how its memory is read:
// the Linux back end supplies registers and a Memory for each event, and
// says in sc.ABI which convention the call used:
//
//	d := strace.NewDecoder(strace.Options{})        // one per vCPU goroutine
//	d.Enter(&sc, nr, args, mem)                     // at entry: the six argument registers of sc.ABI
//	d.Exit(&sc, nr, args, regs.RAX, mem, entryArgs) // at exit: rax is the result
//	line := sc.Name + "(" + ... + ") = " + strace.Result(&sc)
//
// An i386 call's number, arguments and result are the low 32 bits of their
// registers, as the kernel reads them; its pointer arrays (argv, iovec) and
// struct sigaction hold 4-byte words. The package-level Known and Lookup are the
// x86-64 table's; Check takes names of either.
//
// Reads of guest memory are bounded by Options whatever the guest passes;
// an unreadable pointer is shown as strace does, in hex, and every string
// goes through internal/escape.
//
// Where the text differs from strace's on purpose or for now:
//   - non-printable bytes are \xNN (internal/escape), where strace writes
//     octal (\33) unless run with -x;
//   - arguments are one per register in kernel order, but for clone, which
//     shows strace's labels and order (ArgRegister maps them back), futex
//     under FUTEX_WAIT_BITSET and FUTEX_WAKE_BITSET, which leaves uaddr2
//     out as strace does (ArgRegister too), and
//     rt_sigreturn and sigreturn, whose {mask=[...]} needs the stack
//     pointer: only a Memory that is a StackMemory gives it, else they show
//     no argument; an i386 64-bit offset split over two registers (pread64,
//     _llseek, truncate64...) shows as its halves;
//   - getdents64 counts the entries of at most 64 KiB of its buffer ("N+
//     entries" past that), clone3 does not show the bytes of a struct
//     larger than strace 6.1's clone_args, and arch_prctl's
//     ARCH_GET_XCOMP_* and ARCH_REQ_XCOMP_* arguments are hex, not
//     XFEATURE_ names;
//   - structures strace decodes but this package does not yet (poll fds,
//     msghdr, rlimit, itimerval, sched_attr, io_uring...) are pointers, and
//     so are the i386 structures whose layout differs from x86-64 (old stat,
//     32-bit timeval, old sigaction, the ipc block; the header of
//     syscalls_i386.txt lists them); ioctl requests outside a small
//     tty/file set are hex, not _IOC(...); socket options are named at
//     levels SOL_SOCKET and SOL_TCP only (numbers elsewhere), and
//     getsockopt's value and length are pointers;
//   - i386 socketcall shows its sub-call and, as an array, that call's
//     arguments: socketcall(SYS_CONNECT, [3, {...}, 16]) for strace's
//     connect(3, {...}, 16).
package strace

//go:generate go run gen_table.go
