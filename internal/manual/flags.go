package manual

// flagMeanings are one-line meanings of the flags nitro's arguments most
// often show, from open(2), access(2), the *at(2) pages, mmap(2),
// mprotect(2) and clone(2): open's access modes and flags, the AT_ flags
// and AT_FDCWD, access's modes, PROT_ and MAP_ flags, and the CLONE_ flags.
// Other names (signals, ioctl requests, fcntl commands...) have none.
var flagMeanings = map[string]string{
	"O_RDONLY":    "open for reading only",
	"O_WRONLY":    "open for writing only",
	"O_RDWR":      "open for reading and writing",
	"O_ACCMODE":   "access mode 3: checks read and write permission, allows neither (ioctl only)",
	"O_CREAT":     "create the file if it does not exist",
	"O_EXCL":      "with O_CREAT: fail if the file exists",
	"O_NOCTTY":    "a terminal opened does not become the controlling terminal",
	"O_TRUNC":     "truncate an existing regular file to length 0",
	"O_APPEND":    "every write goes to the end of the file",
	"O_NONBLOCK":  "non-blocking: calls that would wait fail with EAGAIN",
	"O_SYNC":      "writes return once data and metadata are on the device",
	"O_DSYNC":     "writes return once the data (and what reading it needs) are on the device",
	"O_DIRECT":    "bypass the page cache where possible",
	"O_LARGEFILE": "allow sizes and offsets beyond 32 bits",
	"O_NOFOLLOW":  "fail if the last path component is a symbolic link",
	"O_NOATIME":   "do not update the access time on reads",
	"O_CLOEXEC":   "close the descriptor at execve",
	"O_PATH":      "a descriptor for the path alone: no reading or writing",
	"O_TMPFILE":   "create an unnamed temporary file in the directory given",
	"O_DIRECTORY": "fail if the path is not a directory",
	"O_ASYNC":     "signal-driven I/O: SIGIO when I/O becomes possible",

	"AT_FDCWD":            "relative paths start at the current working directory",
	"AT_SYMLINK_NOFOLLOW": "do not follow a symbolic link in the last component",
	"AT_SYMLINK_FOLLOW":   "follow a symbolic link in the last component",
	"AT_REMOVEDIR":        "remove a directory, as rmdir does",
	"AT_EACCESS":          "check with the effective user and group IDs",
	"AT_NO_AUTOMOUNT":     "do not trigger an automount at the last component",
	"AT_EMPTY_PATH":       "an empty path means the file dirfd refers to",
	"AT_RECURSIVE":        "apply to the whole mount subtree",
	"AT_STATX_FORCE_SYNC": "sync the attributes with the server first (network filesystems)",
	"AT_STATX_DONT_SYNC":  "use cached attributes, without syncing",

	"F_OK": "test that the file exists",
	"R_OK": "test for read permission",
	"W_OK": "test for write permission",
	"X_OK": "test for execute (search) permission",

	"PROT_NONE":      "the pages cannot be accessed",
	"PROT_READ":      "the pages can be read",
	"PROT_WRITE":     "the pages can be written",
	"PROT_EXEC":      "the pages can be executed",
	"PROT_SEM":       "the pages can be used for atomic operations",
	"PROT_GROWSDOWN": "apply down to the start of a grows-down mapping (a stack)",
	"PROT_GROWSUP":   "apply up to the end of a grows-up mapping",

	"MAP_SHARED":          "changes are seen by other mappings of the file and reach the file",
	"MAP_SHARED_VALIDATE": "MAP_SHARED, failing on flags the kernel does not know",
	"MAP_PRIVATE":         "a private copy-on-write mapping: changes stay in the process",
	"MAP_FIXED":           "exactly at addr, replacing what is mapped there",
	"MAP_FIXED_NOREPLACE": "exactly at addr, failing if that overlaps a mapping",
	"MAP_ANONYMOUS":       "memory backed by no file, zero-filled (fd is ignored)",
	"MAP_32BIT":           "in the first 2 GiB of the address space",
	"MAP_GROWSDOWN":       "a stack: the mapping grows down as it is touched",
	"MAP_DENYWRITE":       "ignored (was: writes to the file fail)",
	"MAP_EXECUTABLE":      "ignored",
	"MAP_LOCKED":          "lock the pages in memory, as mlock does",
	"MAP_NORESERVE":       "reserve no swap space for the mapping",
	"MAP_POPULATE":        "fault the pages in now (read ahead for a file)",
	"MAP_NONBLOCK":        "with MAP_POPULATE: no read ahead",
	"MAP_STACK":           "the mapping is a thread's stack",
	"MAP_HUGETLB":         "use huge pages",
	"MAP_SYNC":            "synchronous page faults on a DAX file",
	"MAP_UNINITIALIZED":   "anonymous pages are not cleared (some embedded kernels)",

	"CLONE_VM":             "share the memory with the child",
	"CLONE_FS":             "share the root, working directory and umask",
	"CLONE_FILES":          "share the file descriptor table",
	"CLONE_SIGHAND":        "share the signal handlers",
	"CLONE_PIDFD":          "return a pidfd for the child",
	"CLONE_PTRACE":         "trace the child too, if the caller is traced",
	"CLONE_VFORK":          "suspend the caller until the child execs or exits",
	"CLONE_PARENT":         "the child's parent is the caller's parent",
	"CLONE_THREAD":         "the child is a thread of the caller's process",
	"CLONE_SYSVSEM":        "share System V semaphore undo values",
	"CLONE_SETTLS":         "set the child's thread-local storage to tls",
	"CLONE_PARENT_SETTID":  "store the child's thread ID at parent_tid",
	"CLONE_CHILD_SETTID":   "store the child's thread ID at child_tid, in the child",
	"CLONE_CHILD_CLEARTID": "clear child_tid and wake its futex when the child exits",
	"CLONE_UNTRACED":       "a tracer cannot force CLONE_PTRACE on the child",
	"CLONE_IO":             "share the I/O context",
	"CLONE_CLEAR_SIGHAND":  "reset the child's signal handlers to their defaults",
	"CLONE_INTO_CGROUP":    "start the child in the cgroup given",
	"CLONE_NEWNS":          "a new mount namespace",
	"CLONE_NEWCGROUP":      "a new cgroup namespace",
	"CLONE_NEWUTS":         "a new UTS (host name) namespace",
	"CLONE_NEWIPC":         "a new IPC namespace",
	"CLONE_NEWUSER":        "a new user namespace",
	"CLONE_NEWPID":         "a new PID namespace",
	"CLONE_NEWNET":         "a new network namespace",
	"CLONE_NEWTIME":        "a new time namespace",
}

// Flag is a flag an argument shows, with what it means.
type Flag struct{ Name, Meaning string }

// Flags are the flags of flagMeanings named in an argument's text, in
// their order, once each: "O_RDONLY|O_CLOEXEC", "AT_FDCWD",
// "flags=CLONE_VM|CLONE_FS|SIGCHLD". Quoted strings are skipped: a path
// that reads "O_CREAT" is no flag.
func Flags(text string) []Flag {
	var out []Flag
	seen := map[string]bool{}
	for i := 0; i < len(text); {
		switch {
		case text[i] == '"':
			i = skipQuoted(text, i+1)
		case isWord(text[i]):
			j := i
			for j < len(text) && isWord(text[j]) {
				j++
			}
			if w := text[i:j]; !seen[w] && flagMeanings[w] != "" {
				seen[w] = true
				out = append(out, Flag{w, flagMeanings[w]})
			}
			i = j
		default:
			i++
		}
	}
	return out
}

// skipQuoted is the index after the string that starts at i, its opening
// quote already read; a backslash escapes what follows it.
func skipQuoted(text string, i int) int {
	for ; i < len(text); i++ {
		switch text[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

func isWord(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_'
}
