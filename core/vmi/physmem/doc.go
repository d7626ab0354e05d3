// Package physmem provides guest-physical memory sources (vmi.PhysMem): the
// memory of a running QEMU process, read in place, and memory dumps (a raw
// image as HMP pmemsave writes it, the ELF core of virsh dump
// --memory-only). Each source maps ranges of guest-physical addresses onto
// ranges of host storage.
package physmem
