// Package vmi reads a guest's memory: physical memory sources, x86-64
// virtual-to-physical translation, and typed reads on top. Sub-packages find
// the kernel's symbols and structure layouts in that memory.
//
// It knows nothing of listeners or user interfaces; sources that need a
// hypervisor connection (QEMU's gdbstub, libvirt) are handed in through the
// PhysMem interface.
package vmi
