// Package backend turns listener events into system calls for a guest
// operating system: the call's name, the process that made it, its arguments
// (read and modified through guest memory) and its return value. One
// sub-package per guest OS.
package backend
