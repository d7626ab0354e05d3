// Package mmtest builds a Linux kernel's memory map in synthetic guest
// memory, for tests of code that reads it (package linuxmm and its users):
// maple tree nodes, VMAs, files with their page cache, struct pages.
package mmtest
