// Package e2e holds the end-to-end tests: they run the real nitro binary and
// libraries against real lab guests (libvirt + QEMU under TCG, Debian's
// kernel) and compare what nitro sees with what the guest says it did on its
// serial console. TestMain boots each guest once for the whole run.
package e2e
