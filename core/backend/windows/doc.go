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
// No Windows guest or memory image could be reached while this was
// written: it is tested on synthetic guests built exactly from the public
// facts (package wintest), not on a real Windows kernel.
package windows
