// Package rspfake is a fake GDB stub for tests: it serves a simulated
// x86-64 machine (registers laid out as QEMU 7.2 lays them out, flat memory,
// breakpoints, stops) over any connection, speaking the protocol the way
// QEMU's gdbstub does, quirks included.
package rspfake
