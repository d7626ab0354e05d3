// Package e2e holds the end-to-end tests: they run the real nitro binary and
// libraries against real lab guests (libvirt + QEMU under TCG, Debian's
// kernel) and compare what nitro sees with what the guest says it did on its
// serial console. TestMain boots each guest once for the whole run.
//
// The benchmarks (`make bench`) also measure on guests of their own:
// nitro-lab-busy, which makes system calls as fast as it can, and nitro-smp8,
// with eight vCPUs. The first benchmark that needs one boots it, and TestMain
// takes it down at the end if the run booted it. `-args -lab=false` leaves
// the tests' guests alone, for runs of those benchmarks only.
package e2e
