// Package rsp is a client of the GDB Remote Serial Protocol as QEMU's gdbstub
// speaks it: framing and acknowledgements, feature negotiation, target
// description (target.xml) parsing, registers, memory (virtual and QEMU's
// physical mode), breakpoints, resume/step/interrupt and stop replies.
//
// The transport is any io.ReadWriteCloser (a unix socket in real use). Every
// reply from the stub is treated as hostile input: packets are bounded in
// size, malformed ones give errors, and requests time out instead of hanging.
package rsp
