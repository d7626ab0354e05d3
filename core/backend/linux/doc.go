// Package linux is the back end for Linux x86-64 guests: it finds where the
// kernel enters and leaves system calls, reads the current task at each
// event, and turns events into system calls with decoded arguments that
// hooks may modify while the vCPU is stopped.
package linux
