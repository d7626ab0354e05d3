package triage

import (
	"cmp"
	"slices"

	"nitro/api"
	"nitro/internal/escape"
)

// maxActivity bounds each activity view's rows (files, sockets, processes);
// past it, new rows are counted in ActivityDropped, and rows already there
// keep counting.
const maxActivity = 100000

// FileUse is what one process did to one path in one way: its opens with
// one mode and result, its renames of it, its unlinks. Texts are escaped.
type FileUse struct {
	PID    int    `json:"pid"`
	Comm   string `json:"comm"`
	Path   string `json:"path"`
	To     string `json:"to,omitempty"` // a rename's or link's new name
	Op     string `json:"op"`           // the call's family: open, rename, unlink, mkdir...
	Mode   string `json:"mode,omitempty"`
	Result string `json:"result"` // "ok" or the errno's name
	Count  int    `json:"count"`
	Seq    uint64 `json:"seq"` // the first such call's entry
}

// Socket is one socket of one process, from its socket (or accept) to its
// close: what it was bound, connected or accepted to, and the bytes that
// went through it. Texts are escaped.
type Socket struct {
	PID      int      `json:"pid"`
	Comm     string   `json:"comm"`
	FD       int      `json:"fd"`
	Family   string   `json:"family"` // fd.type: ipv4, ipv6, unix...
	Type     string   `json:"type,omitempty"`
	Local    string   `json:"local,omitempty"`  // bound to
	Remote   string   `json:"remote,omitempty"` // connected to, or accepted from
	Ops      []string `json:"ops"`              // socket, bind, listen, connect, accept: in order, each once
	Result   string   `json:"result,omitempty"` // its connect's: "ok", or the errno's name
	Sent     int64    `json:"sent"`
	Received int64    `json:"received"`
	Closed   bool     `json:"closed"`
	Seq      uint64   `json:"seq"` // the entry of the call that made it
}

// ExecNode is one process of the exec lineage: the programs it ran, its
// children, how it ended. Texts are escaped.
type ExecNode struct {
	PID      int         `json:"pid"`
	PPID     int         `json:"ppid"`
	Comm     string      `json:"comm"`
	Execs    []ExecCall  `json:"execs,omitempty"`
	Exited   bool        `json:"exited"`
	Status   *int64      `json:"status,omitempty"` // exit_group's, when seen
	Children []*ExecNode `json:"children,omitempty"`
}

// ExecCall is one exec a process made.
type ExecCall struct {
	Seq    uint64 `json:"seq"` // its entry's
	Exe    string `json:"exe"`
	Argv   string `json:"argv"`
	Result string `json:"result"`
}

type fileKey struct {
	pid                       int
	op, path, to, mode, errno string
}

type sockKey struct{ pid, fd int }

// activity gathers the views, with the engine's process state.
type activity struct {
	files   map[fileKey]*FileUse
	socks   []*Socket
	open    map[sockKey]*Socket
	procs   map[int]*ExecNode
	order   []int // procs by first sight
	dropped uint64
}

// activityCalls are the calls the views read beyond those the engine
// tracks, and ioCalls those they read on a socket they saw made.
var (
	activityCalls = map[string]bool{
		"rmdir": true, "mkdir": true, "mkdirat": true, "rename": true, "renameat": true, "renameat2": true,
		"link": true, "linkat": true, "symlink": true, "symlinkat": true, "truncate": true, "chmod": true,
		"fchmodat": true, "chown": true, "lchown": true, "fchownat": true, "listen": true, "clone3": true,
	}
	ioCalls = map[string]bool{
		"read": true, "write": true, "readv": true, "writev": true, "sendto": true, "recvfrom": true,
		"sendmsg": true, "recvmsg": true,
	}
)

// wants says whether the views read sc: the reads and writes of a file
// cost only this look-up.
func (a *activity) wants(sc *api.Syscall, tracked bool) bool {
	if ioCalls[sc.Name] {
		return len(a.open) > 0 && a.open[sockKey{sc.Process.PID, fdArg(sc, 0)}] != nil
	}
	return tracked || activityCalls[sc.Name]
}

// fileOps are the file views' families of path calls.
var fileOps = map[string]string{
	"open": "open", "openat": "open", "openat2": "open", "creat": "open",
	"unlink": "unlink", "unlinkat": "unlink", "rmdir": "rmdir", "mkdir": "mkdir", "mkdirat": "mkdir",
	"rename": "rename", "renameat": "rename", "renameat2": "rename", "link": "link", "linkat": "link",
	"symlink": "symlink", "symlinkat": "symlink", "truncate": "truncate", "chmod": "chmod",
	"fchmodat": "chmod", "chown": "chown", "lchown": "chown", "fchownat": "chown",
}

// KeepActivity makes the engine gather the activity views (Files,
// Network, Execs) as well as findings.
func (e *Engine) KeepActivity() {
	e.act = &activity{files: map[fileKey]*FileUse{}, open: map[sockKey]*Socket{}, procs: map[int]*ExecNode{}}
}

func (a *activity) node(pid int) *ExecNode {
	if n := a.procs[pid]; n != nil {
		return n
	}
	if len(a.procs) >= maxActivity {
		a.dropped++
		return &ExecNode{} // counted, not kept
	}
	n := &ExecNode{PID: pid}
	a.procs[pid] = n
	a.order = append(a.order, pid)
	return n
}

// seen notes the process of a call: its name and parent as they are now.
func (a *activity) seen(sc *api.Syscall) {
	n := a.node(sc.Process.PID)
	if n.Comm != sc.Process.Comm {
		n.Comm = escape.String(sc.Process.Comm)
	}
	n.PPID = sc.Process.PPID
}

func result(sc *api.Syscall) string {
	if sc.Failed() {
		return sc.Errno
	}
	return "ok"
}

// feed records a call judged by the engine (an exit, or an entry that
// never returns), with what describe found; seq is its entry's.
func (a *activity) feed(sc *api.Syscall, seq uint64, fd FD, fsp FSPath) {
	n := a.node(sc.Process.PID)
	if sc.Name == "exit_group" {
		n.Exited = true
		if len(sc.Args) > 0 {
			st := int64(int32(sc.Args[0].Raw))
			n.Status = &st
		}
		return
	}
	if op, ok := fileOps[sc.Name]; ok {
		a.file(sc, seq, op, fsp)
	}
	switch sc.Name {
	case "execve", "execveat":
		argv := 1
		if sc.Name == "execveat" {
			argv = 2
		}
		ex := ExecCall{Seq: seq, Exe: escape.String(fd.Name), Result: result(sc)}
		if argv < len(sc.Args) {
			ex.Argv = api.Safe(sc.Args[argv].Text)
		}
		if len(n.Execs) < maxEvidence {
			n.Execs = append(n.Execs, ex)
		}
	case "clone", "fork", "vfork", "clone3":
		if sc.Ret > 0 && !sc.Failed() {
			c := a.node(int(sc.Ret))
			if c.Comm == "" {
				c.Comm, c.PPID = n.Comm, n.PID
			}
		}
	case "socket", "accept", "accept4":
		if sc.Failed() {
			return
		}
		s := &Socket{PID: sc.Process.PID, Comm: n.Comm, FD: int(fd.Num), Family: fd.Type, Ops: []string{sc.Name}, Seq: seq}
		if sc.Name == "socket" {
			if len(sc.Args) > 1 {
				s.Type = api.Safe(sc.Args[1].Text)
			}
		} else {
			s.Remote, s.Ops = escape.String(fd.Name), []string{"accept"}
		}
		a.addSocket(s)
	case "close":
		if s := a.open[sockKey{sc.Process.PID, int(fd.Num)}]; s != nil {
			s.Closed = true
			delete(a.open, sockKey{sc.Process.PID, int(fd.Num)})
		}
	default:
		a.sockIO(sc, fd)
	}
}

func (a *activity) file(sc *api.Syscall, seq uint64, op string, fsp FSPath) {
	k := fileKey{pid: sc.Process.PID, op: op, path: fsp.Name, errno: sc.Errno}
	if fsp.Source != "" {
		k.path, k.to = fsp.Source, fsp.Target
	}
	switch {
	case op == "open" && sc.Name == "creat":
		k.mode = "O_WRONLY|O_CREAT|O_TRUNC"
	case op == "open":
		if i := map[string]int{"open": 1, "openat": 2}[sc.Name]; i > 0 && i < len(sc.Args) {
			k.mode = sc.Args[i].Text
		}
	case op == "mkdir" || op == "chmod":
		if i := len(sc.Args) - 1; i >= 0 {
			k.mode = sc.Args[i].Text
		}
	}
	if u := a.files[k]; u != nil {
		u.Count++
		return
	}
	if len(a.files) >= maxActivity {
		a.dropped++
		return
	}
	a.files[k] = &FileUse{
		PID: k.pid, Comm: escape.String(sc.Process.Comm), Path: escape.String(k.path), To: escape.String(k.to),
		Op: op, Mode: api.Safe(k.mode), Result: result(sc), Count: 1, Seq: seq,
	}
}

func (a *activity) addSocket(s *Socket) {
	if len(a.socks) >= maxActivity {
		a.dropped++
		return
	}
	a.socks = append(a.socks, s)
	a.open[sockKey{s.PID, s.FD}] = s
}

// sockIO records bind, listen, connect and the bytes read and written on
// a socket the views saw made.
func (a *activity) sockIO(sc *api.Syscall, fd FD) {
	s := a.open[sockKey{sc.Process.PID, int(fd.Num)}]
	if s == nil {
		return
	}
	op := func(name string) {
		if !slices.Contains(s.Ops, name) {
			s.Ops = append(s.Ops, name)
		}
	}
	switch sc.Name {
	case "bind":
		op("bind")
		s.Local = escape.String(fd.Name)
	case "listen":
		op("listen")
	case "connect":
		op("connect")
		s.Remote, s.Result = escape.String(fd.Name), result(sc)
	case "write", "writev", "sendto", "sendmsg":
		if sc.Ret > 0 {
			s.Sent += sc.Ret
		}
	case "read", "readv", "recvfrom", "recvmsg":
		if sc.Ret > 0 {
			s.Received += sc.Ret
		}
	}
}

// Files is the files view: per process, path, way and result, in the
// order first seen.
func (e *Engine) Files() []FileUse {
	if e.act == nil {
		return nil
	}
	out := make([]FileUse, 0, len(e.act.files))
	for _, u := range e.act.files {
		out = append(out, *u)
	}
	slices.SortFunc(out, func(a, b FileUse) int { return cmp.Compare(a.Seq, b.Seq) })
	return out
}

// Network is the network view: every socket seen made, in order.
func (e *Engine) Network() []Socket {
	if e.act == nil {
		return nil
	}
	out := make([]Socket, len(e.act.socks))
	for i, s := range e.act.socks {
		out[i] = *s
		out[i].Ops = slices.Clone(s.Ops)
	}
	return out
}

// Execs is the exec lineage: the trees of processes seen, exited ones
// included, each under its parent when the parent was seen too; roots in
// the order first seen, children by pid.
func (e *Engine) Execs() []*ExecNode {
	if e.act == nil {
		return nil
	}
	nodes := make(map[int]*ExecNode, len(e.act.procs))
	for pid, n := range e.act.procs {
		c := *n
		c.Execs, c.Children = slices.Clone(n.Execs), nil
		nodes[pid] = &c
	}
	var roots []*ExecNode
	for _, pid := range e.act.order {
		n := nodes[pid]
		if p := nodes[n.PPID]; p != nil && n.PPID != pid && !ancestor(nodes, n, p) {
			p.Children = append(p.Children, n)
		} else {
			roots = append(roots, n)
		}
	}
	for _, n := range nodes {
		slices.SortFunc(n.Children, func(a, b *ExecNode) int { return cmp.Compare(a.PID, b.PID) })
	}
	return roots
}

// ancestor says whether n is an ancestor of p already: a guest's parents
// can loop (pid reuse, a lie), and the tree must not.
func ancestor(nodes map[int]*ExecNode, n, p *ExecNode) bool {
	for i := 0; p != nil && i < len(nodes); i++ {
		if p == n {
			return true
		}
		p = nodes[p.PPID]
		if p != nil && p.PPID == p.PID {
			return false
		}
	}
	return false
}

// ActivityDropped counts the rows the views had no room for.
func (e *Engine) ActivityDropped() uint64 {
	if e.act == nil {
		return 0
	}
	return e.act.dropped
}
