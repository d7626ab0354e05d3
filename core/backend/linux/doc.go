// Package linux is the back end for Linux x86-64 guests: it finds where the
// kernel enters and leaves system calls, in the 64-bit convention and the
// 32-bit one (int 0x80, sysenter, 32-bit syscall; IA32 emulation), reads the
// current task at each event, and turns events into system calls with
// decoded arguments that hooks may modify while the vCPU is stopped. Its
// process listing compares the kernel's views of its tasks (the task list,
// the pid table, the run queues, the tasks seen making calls) and marks
// the tasks some lack: hidden, as rootkits hide processes.
package linux
