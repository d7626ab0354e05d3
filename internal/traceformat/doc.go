// Package traceformat writes system call events in the two output forms of
// `nitro trace`: JSON lines and strace-style text.
//
// Every Write emits one whole line with a single call to the underlying
// io.Writer, so a trace that is killed leaves only whole lines behind.
//
// JSON lines, one object per event:
//
//	{"seq":7,"time":"2026-11-26T00:03:35.123456789Z","vcpu":0,"direction":"exit","abi":"x86_64",
//	 "nr":257,"name":"openat","pid":42,"tid":42,"ppid":1,"comm":"cat",
//	 "args":[{"raw":"0xffffffffffffff9c","text":"AT_FDCWD"}, ...],
//	 "ret":-2,"errno":"ENOENT","matched":true,"ret_text":"-1 ENOENT (No such file or directory)"}
//
// time is the host time of the stop, RFC 3339 with nanoseconds (always nine
// digits) in the event's location. abi is the call's convention: "x86_64",
// or "i386" for 32-bit calls (int 0x80, sysenter), whose nr is an i386
// number. raw is the register in hex, as a string
// because it is 64 bits wide. ret, errno and matched appear on exits only:
// ret is the raw value the kernel returned (-2, not -1), errno is "" on
// success, matched says whether the call's entry was seen, ret_text is the
// return as strace shows it, and injected is true when nitro made the call
// fail instead of running it. comm is escaped
// like every other guest string (backslash escapes, printable ASCII only).
//
// Text, strace's form with the process in front ("[pid comm]", or
// "[pid/tid comm]" for a thread other than the group leader):
//
//	[42 cat] openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3                an entry and its exit
//	[42 cat] read(0,  <unfinished ...>                                      an entry, another task next
//	[42 cat] <... read resumed>"nitro probe input\n", 128) = 18            its exit, later or unseen
//	[42 cat] exit_group(0) = ?                                              an entry that never returns
//	[57 probe32] i386:open("/etc/hostname", O_RDONLY) = 3                   a 32-bit call
//
// The text writer holds each entry back until the next event: if that is
// the call's exit, the call takes one line; Flush writes a held entry. A
// call split in two is split where strace splits it: the arguments the call
// writes (api.Arg.Out), and those after them, show with its exit.
//
// Both forms take every text from the event as its back end rendered it
// (api.AppendCall): what follows " = " is the event's RetText ("-1 ENOENT
// (No such file or directory)", hex addresses for mmap), which JSON carries
// as ret_text.
package traceformat
