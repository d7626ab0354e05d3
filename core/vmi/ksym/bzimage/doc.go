// Package bzimage extracts the kernel ELF (vmlinux) from an x86 bzImage
// (vmlinuz): it finds the compressed payload through the boot protocol header
// and decompresses it (xz with the x86 BCJ filter, zstd, gzip or LZ4).
//
// The result is the stripped vmlinux that the boot decompressor would load,
// followed by the relocation table the kernel build appends to it; Go's
// debug/elf reads it as is.
package bzimage
