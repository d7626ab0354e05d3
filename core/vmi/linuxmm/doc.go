// Package linuxmm reads a Linux process's memory the way the kernel would
// fault it in, for addresses the process's page tables do not map yet.
//
// A freshly forked child shares its parent's read-only file pages, but
// fork copies no page-table entries of file mappings that hold no
// anonymous pages: the child's tables do not map them until it touches
// them. A system call's argument there (execve's path in the program's
// .rodata) still reads fine in the kernel, which faults the page in from
// the file's page cache. Resolver does the same without faulting anything
// in: it finds the VMA covering the address in the mm's maple tree
// (Linux 6.1 and later), looks the page up in the file's page cache (the
// address_space's xarray) and reads the physical page behind its struct
// page.
//
// It answers only when the answer is what the process would read:
//   - the page-table entry is empty (a nonzero entry that is not present is
//     a swapped-out or migrating page, whose content the page cache does
//     not hold);
//   - the VMA is a plain file mapping (not hugetlbfs, PFN or I/O maps);
//   - the page is in the page cache and up to date, and its struct page
//     names this file and index.
//
// Anonymous mappings stay unread: an untouched anonymous page would read
// as zeros, but special mappings without a file (vDSO, vvar, PFN maps) and
// userfaultfd regions do not, and telling them apart from plain anonymous
// memory needs more of the kernel's state than a zero string is worth.
// Entries walks a whole xarray the same way, for the kernel's tables kept
// in one (the pid table, an idr).
//
// Everything read is guest data: every walk is bounded (a hostile guest can
// link its trees into loops or point them anywhere), and anything
// inconsistent is reported as ErrCorrupt rather than guessed around.
package linuxmm
