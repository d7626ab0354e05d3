// Package vmitest holds fakes for tests of code that reads guest memory: a
// guest-physical memory in a byte slice and a builder of x86-64 page tables
// in it.
package vmitest
