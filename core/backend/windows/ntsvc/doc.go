// Package ntsvc holds the Windows 7 SP1 x64 system service tables: the
// names of the 401 nt services with their argument counts, and the names
// of the 827 win32k services, from public syscall tables by build and
// public prototypes. The guest's own service tables give win32k's counts.
package ntsvc
