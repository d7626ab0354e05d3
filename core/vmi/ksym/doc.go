// Package ksym finds the kernel's symbol table without files: it decodes the
// compressed kallsyms tables the kernel carries for itself, either in a
// decompressed vmlinux (link-time addresses) or in a guest's physical memory
// (run-time addresses, from which the KASLR slide and the kernel's physical
// load address follow). A System.map or /proc/kallsyms text can stand in.
//
// The tables are found by their shape alone (the token table and its index),
// so no symbol needs to be known beforehand. Every count and length read from
// the guest is capped: hostile bytes give an error, never a panic, a huge
// allocation or an endless loop.
package ksym
