// Package wintest builds synthetic Windows 7 SP1 x64 guests for tests: a
// guest-physical image laid out exactly as the public facts about the 7601
// kernels say (../shared/windows/win7-sp1-x64.md), since no real Windows
// guest or dump can be reached. It holds 4-level page tables, ntoskrnl's PE
// header with its RSDS debug record, the KPCR and the
// KTHREAD/ETHREAD/EPROCESS chains of a dozen processes (one WOW64, one
// exited; their image paths, one across a page boundary), the service tables with their encoded argument counts, user
// stacks and strings, and writes all of it out as an ELF core with QEMU's
// per-vCPU register notes, as `virsh dump --memory-only` does.
//
// Its numbers are written out here again, from the facts, rather than taken
// from the back end: a test of the back end against its own tables would
// prove nothing.
package wintest
