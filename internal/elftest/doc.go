// Package elftest writes small x86-64 ELF executables for tests: seeds for
// the fuzzers of the code that reads a vmlinux a user hands in, without
// shipping a kernel image.
package elftest
