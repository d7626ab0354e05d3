// Package vmi reads a guest's memory: physical memory sources, x86-64
// virtual-to-physical translation, and typed reads on top. Sub-packages find
// the kernel's symbols and structure layouts in that memory.
//
// A PhysMem is guest-physical memory (package physmem has the sources: QEMU's
// process, raw and ELF dumps; package qemulayout learns QEMU's RAM layout).
// A Memory walks the guest's 4- or 5-level page tables over a PhysMem and
// caches what it reads until Invalidate, which the caller calls on every new
// stop of the guest. A Space is one address space (a CR3) with typed reads
// and writes.
//
// It knows nothing of listeners or user interfaces; sources that need a
// hypervisor connection (QEMU's gdbstub, libvirt) are handed in through the
// PhysMem interface.
package vmi
