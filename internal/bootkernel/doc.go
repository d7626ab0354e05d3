// Package bootkernel hands tests the vmlinux of Debian's kernels in /boot,
// extracted once per test binary.
package bootkernel
