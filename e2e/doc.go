// Package e2e holds the end-to-end tests: they run the real nitro binary and
// libraries against real lab guests (libvirt + QEMU under TCG, Debian's
// kernel) and compare what nitro sees with what the guest says it did on its
// serial console. TestMain boots each guest once for the whole run.
//
// The benchmarks (`make bench`) also measure on a third guest, nitro-lab-busy,
// which makes system calls as fast as it can: the first benchmark that needs
// it boots it, and TestMain takes it down at the end if the run booted it.
package e2e
