// Command kmatrix checks that nitro attaches to every Debian kernel of the
// 6.1 and 6.12 series (amd64, cloud-amd64 and rt-amd64 flavours) that the
// machine's apt archive serves, offline: it downloads each image package
// (apt-get download, never installed), unpacks its vmlinuz into a cache
// directory, and runs nitro's discovery on it. It prints one line per
// kernel, pass or fail with the reason, and exits 1 if any fails.
//
// Each kernel's vmlinux is decoded as a file (ksym.FromVmlinux), then
// loaded at its physical address into a simulated guest memory, where
// nitro's attach path runs as on a live guest: kallsyms found by scanning
// memory, structure offsets read from the BTF between __start_BTF and
// __stop_BTF, and the Linux back end set up (entry and exit points, the
// guest's sys_call_table, the task list from init_task). The results are
// checked against witnesses the search does not use: the ELF's .BTF
// section, and the statically initialised init_task.
//
//	go run ./internal/kmatrix [-cache /var/cache/nitro/kernels] [-jobs N]
//
// `make kernel-matrix` runs it; its unit test runs the same checks on the
// kernels lab/deps.sh installs in /boot.
package main
