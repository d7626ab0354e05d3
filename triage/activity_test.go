package triage

import (
	"encoding/json"
	"slices"
	"testing"

	"nitro/api"
)

func activityOf(calls []api.Syscall) *Engine {
	e := New(Builtin())
	e.KeepActivity()
	for i := range calls {
		e.Feed(&calls[i])
	}
	return e
}

func TestActivityFiles(t *testing.T) {
	g := newGuest()
	p := g.proc(10, 1, "ed\x1b", 0)
	p.call("openat", 3, "", openat("/etc/motd", 0, "O_RDONLY")...)
	p.call("openat", 4, "", openat("/etc/motd", 0, "O_RDONLY")...)
	p.call("openat", -2, "ENOENT", openat("/nope", 0, "O_RDONLY")...)
	p.call("creat", 5, "", str("/tmp/new\n"), num(0o600, "0600"))
	p.call("rename", 0, "", str("/tmp/new\n"), str("/tmp/done"))
	p.call("unlink", 0, "", str("/tmp/done"))
	p.call("read", 10, "", fd(3), str("0123456789"), num(10, ""))
	got := activityOf(g.calls).Files()
	want := []FileUse{
		{PID: 10, Comm: `ed\x1b`, Path: "/etc/motd", Op: "open", Mode: "O_RDONLY", Result: "ok", Count: 2, Seq: 1},
		{PID: 10, Comm: `ed\x1b`, Path: "/nope", Op: "open", Mode: "O_RDONLY", Result: "ENOENT", Count: 1, Seq: 5},
		{PID: 10, Comm: `ed\x1b`, Path: `/tmp/new\n`, Op: "open", Mode: "O_WRONLY|O_CREAT|O_TRUNC", Result: "ok", Count: 1, Seq: 7},
		{PID: 10, Comm: `ed\x1b`, Path: `/tmp/new\n`, To: "/tmp/done", Op: "rename", Result: "ok", Count: 1, Seq: 9},
		{PID: 10, Comm: `ed\x1b`, Path: "/tmp/done", Op: "unlink", Result: "ok", Count: 1, Seq: 11},
	}
	if !slices.Equal(got, want) {
		t.Errorf("files\n got %+v\nwant %+v", got, want)
	}
}

func TestActivityNetwork(t *testing.T) {
	g := newGuest()
	c := g.proc(20, 1, "curl", 0)
	c.call("socket", 3, "", num(2, "AF_INET"), num(1, "SOCK_STREAM"), num(6, "IPPROTO_TCP"))
	c.call("connect", 0, "", fd(3), sockaddrIn("93.184.216.34", 80), num(16, ""))
	c.call("write", 18, "", fd(3), str("GET / HTTP/1.0\r\n\r\n"), num(18, ""))
	c.call("read", 100, "", fd(3), str("HTTP/1.0 200 OK"), num(4096, ""))
	c.call("read", 0, "", fd(3), str(""), num(4096, ""))
	c.call("close", 0, "", fd(3))
	s := g.proc(30, 1, "httpd", 0)
	s.call("socket", 4, "", num(10, "AF_INET6"), num(1, "SOCK_STREAM"), num(0, "0"))
	s.call("bind", 0, "", fd(4), api.Arg{Text: `{sa_family=AF_INET6, sin6_port=htons(8080), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::", &sin6_addr), sin6_scope_id=0}`}, num(28, ""))
	s.call("listen", 0, "", fd(4), num(128, ""))
	s.call("accept4", 5, "", fd(4), api.Arg{Text: `{sa_family=AF_INET6, sin6_port=htons(51000), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}`}, num(0, "[28]"), num(0, "SOCK_CLOEXEC"))
	s.call("sendto", 5, "", fd(5), str("hello"), num(5, ""), num(0, "0"), num(0, "NULL"), num(0, "0"))
	got := activityOf(g.calls).Network()
	want := []Socket{
		{PID: 20, Comm: "curl", FD: 3, Family: "ipv4", Type: "SOCK_STREAM", Remote: "93.184.216.34:80", Ops: []string{"socket", "connect"},
			Result: "ok", Sent: 18, Received: 100, Closed: true, Seq: 1},
		{PID: 30, Comm: "httpd", FD: 4, Family: "ipv6", Type: "SOCK_STREAM", Local: "[::]:8080", Ops: []string{"socket", "bind", "listen"}, Seq: 13},
		{PID: 30, Comm: "httpd", FD: 5, Family: "ipv6", Remote: "[::1]:51000", Ops: []string{"accept"}, Sent: 5, Seq: 19},
	}
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		t.Errorf("network\n got %s\nwant %s", gj, wj)
	}
}

func TestActivityExecs(t *testing.T) {
	g := newGuest()
	sh := g.proc(40, 1, "sh", 0)
	sh.call("clone", 41, "", num(0x1200011, "flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD"))
	c := g.proc(41, 40, "sh", 0).exec("/bin/ls", "ls", "-l")
	c.call("execve", -2, "ENOENT", str("/bin/nope"), argvArg([]string{"nope"}), num(0, "NULL"))
	c.exit()
	g.calls[len(g.calls)-1].Args[0] = num(3, "3")
	g.proc(50, 99, "orphan", 0).call("getpid", 50, "")
	roots := activityOf(g.calls).Execs()
	if len(roots) != 2 || roots[0].PID != 40 || roots[1].PID != 50 {
		t.Fatalf("roots %+v, want 40 and 50", roots)
	}
	kids := roots[0].Children
	if len(kids) != 1 || kids[0].PID != 41 || !kids[0].Exited || kids[0].Status == nil || *kids[0].Status != 3 {
		t.Fatalf("children of 40: %+v, want 41, exited with 3", kids)
	}
	ex := kids[0].Execs
	if len(ex) != 2 || ex[0].Exe != "/bin/ls" || ex[0].Argv != `["ls", "-l"]` || ex[0].Result != "ok" || ex[1].Result != "ENOENT" {
		t.Errorf("execs %+v", ex)
	}
	if roots[0].Exited {
		t.Error("sh exited, without an exit_group")
	}
}

// TestActivityExecsParentLoop: a guest whose parents loop (pid reuse, or a
// lie) still makes a tree, every process in it once.
func TestActivityExecsParentLoop(t *testing.T) {
	g := newGuest()
	g.proc(60, 61, "a", 0).call("getpid", 60, "")
	g.proc(61, 60, "b", 0).call("getpid", 61, "")
	g.proc(62, 62, "self", 0).call("getpid", 62, "")
	var count func([]*ExecNode) int
	count = func(ns []*ExecNode) int {
		n := len(ns)
		for _, c := range ns {
			n += count(c.Children)
		}
		return n
	}
	if n := count(activityOf(g.calls).Execs()); n != 3 {
		t.Errorf("%d processes in the tree, want 3", n)
	}
}
