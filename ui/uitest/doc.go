// Package uitest is a synthetic core for the UI's tests, benchmarks and the
// flood command: a fake Hypervisor and Session, a deterministic system call
// stream, and the key map the tests use. It imports core/kvm only to mark
// events entry or exit; the UI proper does not.
package uitest
