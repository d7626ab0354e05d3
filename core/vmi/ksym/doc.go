// Package ksym finds the kernel's symbol table without files: it decodes the
// compressed kallsyms tables the kernel carries for itself, either in a
// decompressed vmlinux (link-time addresses) or in a guest's physical memory
// (run-time addresses, from which the KASLR slide and the kernel's physical
// load address follow). A System.map or /proc/kallsyms text can stand in.
//
// The tables are found by their structure alone, so no symbol needs to be
// known beforehand and no byte outside the tables is relied on. The run of
// one-letter tokens "0".."9" anchors the search; the token index that
// follows the token table must agree with every token and pins where the
// table starts. Before it, the markers must match every 256th entry of the
// names stream, and kallsyms_num_syms must count entries that end exactly
// at the markers. The address table must be sorted and start at its base;
// kernels that list their own tables (6.12 does) must list them where they
// were found; in memory, the image placed by the tables must hold linux_banner
// and a sys_call_table that points at __x64_sys_read. When no candidate
// passes, the error says which check each failed.
//
// Every count and length read from the guest is capped and every search
// has a budget: hostile bytes give an error, never a panic, a huge
// allocation or an endless loop.
package ksym
