// Package windows is the back end for Windows 7 SP1 x64 guests (ntoskrnl
// 6.1.7601). It finds the kernel from a vCPU's state alone: the KPCR at
// the GS base that is a kernel address (checked by its Self and
// CurrentPrcb fields), ntoskrnl's base below the handler of IDT vector 0,
// and the build from the PDB GUID of the image's CodeView (RSDS) record.
// A vCPU in user mode (GS is its TEB, and QEMU's monitor does not show
// KERNEL_GS_BASE) is found from the IDT alone, and the KPCR is then CPU
// 0's, KiInitialPCR. Builds it knows carry their structure and symbol
// offsets here (layout.go), and ETHREAD.Cid, which moved between 7601
// updates, is checked against the running thread. For other builds the
// user gives a Volatility 3 ISF file (--profile, plain or xz); an unknown
// build fails with an error naming its GUID. `nitro profile` writes the
// layout in use as an ISF file that --profile reads back.
//
// Kernel structures are read through the System process's page tables,
// which map all of the kernel whatever the stopped vCPU runs (a user
// process's tables lack most of it under KVA shadowing).
//
// System calls stop at KiSystemCall64's first instruction (or
// KiSystemCall64Shadow when the profile names it): arguments in r10, rdx,
// r8, r9, then the user stack at rsp+0x28; and after its call of the
// service (call r10), where eax holds the NTSTATUS. --syscalls stops at
// the services' handlers from the guest's own KiServiceTable instead
// (arguments in rcx, rdx, r8, r9 and the kernel stack). Entries and exits
// are paired per thread. Names come from the nt and win32k tables of
// package ntsvc, argument counts from the nt table or the stack-argument
// count the guest's win32k table encodes. A WOW64 process (its EPROCESS
// has a Wow64Process) enters through the same 64-bit path; its name is
// shown with " *32", as Task Manager shows it.
//
// A process listing gives each process's full image path, from
// EPROCESS.SeAuditProcessCreationInfo (an OBJECT_NAME_INFORMATION, whose
// UNICODE_STRING is read through the kernel's tables, at most 1024
// characters; "" when its pointers lead nowhere), and marks a process's
// own row NotThread: its threads are listed apart, with ids of their own.
//
// Fault injection is not offered (the back end is no backend.Injector),
// for none of the ways to skip a call is both safe and checkable here:
//   - An invalid service number, the frontend's way, is refused by
//     KiSystemCall64 before its call of the service: eax becomes
//     STATUS_INVALID_SYSTEM_SERVICE on a path to KiSystemServiceExit that
//     passes no stop, so the injected result could not be set. ^0 is
//     worse: its table bit selects win32k, for which the kernel first
//     tries to make the thread a GUI thread.
//   - Setting the result at the entry stop and moving RIP on: at
//     KiSystemCall64's first instruction no trap frame is built yet, so
//     jumping into KiSystemServiceExit would restore garbage, and
//     returning to user mode by hand (a sysret) needs CS and SS to become
//     the user's, which the listeners cannot write (an edit changes the
//     general registers only, kvm.Regs): the process would go on in ring 0.
//   - A second exit stop on the invalid-number path, or at the exit
//     path's sysret: those addresses are in no symbol table or facts file,
//     only in byte patterns of KiSystemCall64 that no real kernel here
//     can confirm; a synthetic guest built from the same guess would
//     prove nothing.
//   - Running a harmless service instead (NtGetCurrentProcessorNumber)
//     does reach the exit stop, but fails unsafe: if the exit is lost (a
//     detach between the stops, registers not written) the skipped call
//     "succeeds" with the processor number, where Linux's skipped call
//     fails with ENOSYS. A harmless service that fails by itself would
//     need kernel internals (probing, handle checks) the facts lack.
//
// Either of the last two becomes sound once checked on a real 7601
// kernel: then the back end implements backend.Injector, its Errno
// taking NTSTATUS names.
//
// No Windows guest or memory image could be reached while this was
// written: it is tested on synthetic guests built exactly from the public
// facts (package wintest), not on a real Windows kernel.
package windows
