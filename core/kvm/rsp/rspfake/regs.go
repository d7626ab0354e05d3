package rspfake

import (
	"encoding/binary"
	"fmt"
	"strings"
)

type reg struct {
	name string
	bits int
}

// registers lists the x86-64 registers in QEMU 7.2's order (and so `g`
// order and numbering); coreRegs of them go into the "core" feature, the
// rest into "sse", so the target description exercises includes.
var registers = func() []reg {
	var r []reg
	for _, n := range strings.Fields("rax rbx rcx rdx rsi rdi rbp rsp r8 r9 r10 r11 r12 r13 r14 r15 rip") {
		r = append(r, reg{n, 64})
	}
	for _, n := range strings.Fields("eflags cs ss ds es fs gs") {
		r = append(r, reg{n, 32})
	}
	for _, n := range strings.Fields("fs_base gs_base k_gs_base cr0 cr2 cr3 cr4 cr8 efer") {
		r = append(r, reg{n, 64})
	}
	for i := range 8 {
		r = append(r, reg{fmt.Sprintf("st%d", i), 80})
	}
	for _, n := range strings.Fields("fctrl fstat ftag fiseg fioff foseg fooff fop") {
		r = append(r, reg{n, 32})
	}
	for i := range 16 {
		r = append(r, reg{fmt.Sprintf("xmm%d", i), 128})
	}
	return append(r, reg{"mxcsr", 32})
}()

const coreRegs = 33 // rax .. efer

// offsets maps a register name to its byte offset in the `g` payload.
var offsets, gSize = func() (map[string]int, int) {
	m := make(map[string]int)
	off := 0
	for _, r := range registers {
		m[r.name] = off
		off += r.bits / 8
	}
	return m, off
}()

// descriptions are the target description documents the fake serves.
var descriptions = func() map[string]string {
	feature := func(name string, regs []reg, first int) string {
		var b strings.Builder
		fmt.Fprintf(&b, `<?xml version="1.0"?><!DOCTYPE feature SYSTEM "gdb-target.dtd"><feature name="%s">`, name)
		for i, r := range regs {
			if i == 0 {
				fmt.Fprintf(&b, `<reg name="%s" bitsize="%d" regnum="%d"/>`, r.name, r.bits, first)
			} else {
				fmt.Fprintf(&b, `<reg name="%s" bitsize="%d"/>`, r.name, r.bits)
			}
		}
		return b.String() + "</feature>"
	}
	return map[string]string{
		"target.xml": `<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd"><target>` +
			`<architecture>i386:x86-64</architecture>` +
			`<xi:include href="core.xml"/><xi:include href="sse.xml"/></target>`,
		"core.xml": feature("org.gnu.gdb.i386.core", registers[:coreRegs], 0),
		"sse.xml":  feature("org.gnu.gdb.i386.sse", registers[coreRegs:], coreRegs),
	}
}()

// CPU is one simulated vCPU: its registers, as a `g` payload.
type CPU struct {
	raw []byte
}

func newCPU() *CPU { return &CPU{raw: make([]byte, gSize)} }

// Get returns a register's value (low 8 bytes for wide ones). Unknown names
// read as 0.
func (c *CPU) Get(name string) uint64 {
	off, ok := offsets[name]
	if !ok {
		return 0
	}
	var b [8]byte
	copy(b[:], c.raw[off:min(off+size(name), off+8)])
	return binary.LittleEndian.Uint64(b[:])
}

// Set stores a register's value, truncated to its size.
func (c *CPU) Set(name string, v uint64) {
	off, ok := offsets[name]
	if !ok {
		panic("rspfake: no register " + name)
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	copy(c.raw[off:off+min(size(name), 8)], b[:])
}

func size(name string) int {
	for _, r := range registers {
		if r.name == name {
			return r.bits / 8
		}
	}
	return 0
}
