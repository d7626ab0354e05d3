// Package core is nitro's frontend, the seed's Nitro class: it composes a
// listener (package kvm's gdbstub or Nitro ioctls) and the back end of the
// guest's operating system (chosen by what the guest runs, see
// backend.Open) into a session, hands out the stream of system calls, and on
// every way out (Close, error, signal, lost connection, even SIGKILL through
// a guard process) leaves the guest running with no breakpoints.
//
// It implements package api's Hypervisor and Session: the faces (the TUI,
// the commands) use those interfaces only, never this package.
package core
