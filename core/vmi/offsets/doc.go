// Package offsets holds the kernel structure layout nitro reads guest memory
// with: the offsets of task_struct, mm_struct, cred and friends' fields, and
// where the per-cpu current task lives. It takes them from the kernel's own
// BTF (CONFIG_DEBUG_INFO_BTF: the bytes between __start_BTF and __stop_BTF in
// guest memory, or a vmlinux's .BTF section), or from a JSON profile for
// kernels without BTF; a profile can also override single values.
//
// # Profile format
//
// A profile is a JSON object; every offset is in bytes from the start of
// its structure, and -1 (or leaving the key out) means the kernel has no
// such field. Example, for Debian's 6.1.0-56-amd64:
//
//	{
//	  "kernel": "Linux version 6.1.0-56-amd64 ...",
//	  "task_struct": {"size": 9792, "tasks": 2192, "pid": 2416, "tgid": 2420,
//	                  "comm": 2976, "comm_size": 16, "mm": 2272, "thread_group": 2592, ...},
//	  "mm_struct": {"pgd": 72, ...},
//	  "cred": {"uid": 8, "gid": 12, "euid": 24, "egid": 28},
//	  "pt_regs_size": 168,
//	  "thread_size": 16384,
//	  "per_cpu_current": {"symbol": "current_task", "offset": 0}
//	}
//
// The keys are the JSON names of the Go fields of Offsets. per_cpu_current
// says where the running task's pointer is: at GS base + the per-cpu
// symbol's value + offset (Linux 6.1: the per-cpu variable current_task;
// 6.2 and later: the current_task member of the per-cpu pcpu_hot).
// thread_size (THREAD_SIZE) is not in BTF; it defaults to 16 KiB, x86-64's
// value without KASAN. Required for a usable profile: task_struct's tasks,
// pid, tgid, comm, mm and real_parent, mm_struct's pgd and
// per_cpu_current.symbol.
package offsets
