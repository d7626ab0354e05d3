package triage

import (
	"net/netip"
	"path"
	"strconv"
	"strings"

	"nitro/api"
	"nitro/internal/escape"
)

// Bounds of what the engine remembers: a guest with more processes, or a
// process with more descriptors, costs nitro no more memory; what is
// forgotten is context (a parent's name, a descriptor's path), never a
// call.
const (
	maxProcs   = 8192
	maxFDs     = 1024 // per process
	maxThreads = 16384
)

// proc is what the engine knows of one guest process (thread group).
type proc struct {
	comm    string
	ppid    int
	uid     uint32
	exe     string // the program its last exec ran
	cmdline string // that exec's argv, as strace shows it
	memfd   bool   // exe was a memfd
	deleted bool   // exe was a file deleted before the exec
	cwd     string // "" until a chdir says
	fds     map[int]fdEntry
	exited  bool   // its exit_group was seen
	first   uint64 // the seq of its first call seen
}

// fdEntry is what a descriptor refers to, as the call that made it said.
type fdEntry struct {
	name    string
	typ     string
	cloexec bool // the exec closes it
	deleted bool // unlinked since it was opened
}

// state is the engine's memory of the guest's processes.
type state struct {
	procs map[int]*proc
	// entries are, per thread, its call in progress: its entry's seq and
	// the uid then.
	entries map[int]entry
}

type entry struct {
	seq uint64
	uid uint32
}

func newState() *state {
	return &state{procs: make(map[int]*proc), entries: make(map[int]entry)}
}

// proc returns pid's state, made if new.
func (s *state) proc(pid int) *proc {
	if p := s.procs[pid]; p != nil {
		return p
	}
	if len(s.procs) >= maxProcs {
		s.evict()
	}
	p := &proc{}
	s.procs[pid] = p
	return p
}

// evict makes room: the processes that exited go first; if none did, an
// eighth of the others (those map order picks).
func (s *state) evict() {
	for pid, p := range s.procs {
		if p.exited {
			delete(s.procs, pid)
		}
	}
	n := len(s.procs) / 8
	for pid := range s.procs {
		if len(s.procs) < maxProcs-n {
			return
		}
		delete(s.procs, pid)
	}
}

// seed takes the processes a session lists when the engine starts, so
// that a parent that makes no call while traced still has its name.
func (s *state) seed(ps []api.Process) {
	for _, t := range ps {
		if t.TID != t.PID {
			continue
		}
		p := s.proc(t.PID)
		p.comm, p.ppid, p.uid = t.Comm, t.PPID, t.UID
	}
}

// Path arguments by call: the argument index of the directory fd and the
// path of the first and second path, -1 where the call has none.
type pathArgs struct{ dir, path, dir2, path2 int8 }

var pathCalls = map[string]pathArgs{
	"open":      {-1, 0, -1, -1},
	"creat":     {-1, 0, -1, -1},
	"openat":    {0, 1, -1, -1},
	"openat2":   {0, 1, -1, -1},
	"unlink":    {-1, 0, -1, -1},
	"unlinkat":  {0, 1, -1, -1},
	"rmdir":     {-1, 0, -1, -1},
	"mkdir":     {-1, 0, -1, -1},
	"mkdirat":   {0, 1, -1, -1},
	"rename":    {-1, 0, -1, 1},
	"renameat":  {0, 1, 2, 3},
	"renameat2": {0, 1, 2, 3},
	"link":      {-1, 0, -1, 1},
	"linkat":    {0, 1, 2, 3},
	"symlink":   {-1, 0, -1, 1},
	"symlinkat": {-1, 0, 1, 2},
	"truncate":  {-1, 0, -1, -1},
	"chmod":     {-1, 0, -1, -1},
	"fchmodat":  {0, 1, -1, -1},
	"chown":     {-1, 0, -1, -1},
	"lchown":    {-1, 0, -1, -1},
	"fchownat":  {0, 1, -1, -1},
	"chdir":     {-1, 0, -1, -1},
	"execve":    {-1, 0, -1, -1},
	"execveat":  {0, 1, -1, -1},
}

// fdCalls are calls whose first argument is a descriptor they work on.
var fdCalls = map[string]bool{
	"read": true, "write": true, "pread64": true, "pwrite64": true, "readv": true, "writev": true,
	"close": true, "fstat": true, "ftruncate": true, "fchmod": true, "fchown": true, "fchdir": true,
	"getdents64": true, "sendfile": true, "connect": true, "bind": true, "listen": true,
	"accept": true, "accept4": true, "sendto": true, "recvfrom": true, "sendmsg": true,
	"recvmsg": true, "shutdown": true, "finit_module": true, "fsync": true,
}

const (
	atFDCWD     = -100
	atEmptyPath = 0x1000
	oWrite      = 0x3 // O_WRONLY | O_RDWR
	oCreat      = 0x40
	oTrunc      = 0x200
	oCloexec    = 0x80000
	afUnix      = 1
	afInet      = 2
	afInet6     = 10
)

// unquote is the string a quoted argument text stands for ("/etc/passwd",
// strace's escapes undone; a text cut short, "..."-ended, as far as it
// goes), or ok false for a text that is no string (NULL, an address).
func unquote(text string) (string, bool) {
	if len(text) < 2 || text[0] != '"' {
		return "", false
	}
	end := strings.LastIndexByte(text, '"')
	if end == 0 {
		return "", false
	}
	s := text[1:end]
	if strings.IndexByte(s, '\\') < 0 {
		return s, true // no escapes: no copy
	}
	u, err := escape.Unescape(s)
	return u, err == nil
}

// pathAt is the path argument i of sc, made absolute from its directory
// descriptor (argument dir) or the process's cwd when they are known.
func (p *proc) pathAt(sc *api.Syscall, dir, i int8) string {
	if i < 0 || int(i) >= len(sc.Args) {
		return ""
	}
	name, ok := unquote(sc.Args[i].Text)
	if !ok || name == "" || name[0] == '/' {
		return name
	}
	base := p.cwd
	if dir >= 0 && int(dir) < len(sc.Args) {
		if fd := int(int32(sc.Args[dir].Raw)); fd != atFDCWD {
			base = p.fds[fd].name
		}
	}
	if !strings.HasPrefix(base, "/") {
		return name // relative to a directory nitro does not know
	}
	return path.Join(base, name)
}

// fdArg is the descriptor in argument i.
func fdArg(sc *api.Syscall, i int) int {
	if i >= len(sc.Args) {
		return -1
	}
	return int(int32(sc.Args[i].Raw))
}

// exeEntry is what an exec runs: its path, resolved through the
// descriptor for execveat(fd, "", AT_EMPTY_PATH) and /proc/self/fd/N.
func (p *proc) exeEntry(sc *api.Syscall, pid int, exe string) fdEntry {
	if sc.Name == "execveat" && exe == "" && len(sc.Args) > 4 && sc.Args[4].Raw&atEmptyPath != 0 {
		return p.fds[fdArg(sc, 0)]
	}
	for _, self := range []string{"/proc/self/fd/", "/proc/" + strconv.Itoa(pid) + "/fd/"} {
		if n, ok := strings.CutPrefix(exe, self); ok {
			if fd, err := strconv.Atoi(n); err == nil {
				return p.fds[fd]
			}
		}
	}
	return fdEntry{name: exe, typ: "file"}
}

// addFD remembers what a new descriptor refers to, within maxFDs.
func (p *proc) addFD(fd int, e fdEntry) {
	if fd < 0 {
		return
	}
	if p.fds == nil {
		p.fds = make(map[int]fdEntry)
	}
	if _, ok := p.fds[fd]; !ok && len(p.fds) >= maxFDs {
		return
	}
	p.fds[fd] = e
}

// sockFamily is fd.type of a socket of this family (socket's argument).
func sockFamily(a api.Arg) string {
	switch a.Raw {
	case afUnix:
		return "unix"
	case afInet:
		return "ipv4"
	case afInet6:
		return "ipv6"
	}
	return strings.ToLower(strings.TrimPrefix(a.Text, "AF_"))
}

// sockaddr reads back the socket address strace's text shows (the
// decoder's rendering of struct sockaddr): {sa_family=AF_INET,
// sin_port=htons(80), sin_addr=inet_addr("10.0.0.1")}, the AF_INET6 and
// AF_UNIX forms likewise. ok is false for a text with no address (NULL,
// a pointer nitro could not read).
func sockaddr(text string) (fd FD, ok bool) {
	_, fam, ok := strings.Cut(text, "sa_family=")
	if !ok {
		return FD{}, false
	}
	if i := strings.IndexAny(fam, ",}"); i >= 0 {
		fam = fam[:i]
	}
	switch fam {
	case "AF_UNIX":
		fd.Type = "unix"
		if _, p, ok := strings.Cut(text, "sun_path="); ok {
			abstract := strings.HasPrefix(p, "@")
			fd.Name, _ = unquote(strings.TrimPrefix(p, "@"))
			if abstract {
				fd.Name = "@" + fd.Name
			}
		}
		return fd, true
	case "AF_INET", "AF_INET6":
		fd.Type = "ipv4"
		open := `inet_addr("`
		if fam == "AF_INET6" {
			fd.Type, open = "ipv6", `inet_pton(AF_INET6, "`
		}
		if _, port, ok := strings.Cut(text, "port=htons("); ok {
			port, _, _ = strings.Cut(port, ")")
			fd.RPort, _ = strconv.Atoi(port)
		}
		if _, a, ok := strings.Cut(text, open); ok {
			a, _, _ = strings.Cut(a, `"`)
			if ip, err := netip.ParseAddr(a); err == nil {
				fd.RIP = ip.String()
				fd.RIPLocal = ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified()
				fd.Name = netip.AddrPortFrom(ip, uint16(fd.RPort)).String()
			}
		}
		return fd, true
	}
	fd.Type = strings.ToLower(strings.TrimPrefix(fam, "AF_"))
	return fd, true
}
