package triage

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"nitro/api"
	"nitro/internal/escape"
)

// guest builds calls as the Linux back end renders them, entry then exit,
// with seqs and times in order.
type guest struct {
	calls []api.Syscall
	seq   uint64
	at    time.Time
}

func newGuest() *guest { return &guest{at: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

// proc is a guest process making calls.
type gproc struct {
	g    *guest
	p    api.Process
	step time.Duration // between calls
}

func (g *guest) proc(pid, ppid int, comm string, uid uint32) *gproc {
	return &gproc{g: g, p: api.Process{PID: pid, TID: pid, PPID: ppid, Comm: comm, UID: uid}, step: time.Millisecond}
}

// call makes the call's entry and its exit returning ret (an errno
// name when ret is negative).
func (gp *gproc) call(name string, ret int64, errno string, args ...api.Arg) *gproc {
	g := gp.g
	g.seq++
	g.at = g.at.Add(gp.step)
	enter := api.Syscall{Seq: g.seq, Time: g.at, Direction: api.Enter, Name: name, Process: gp.p, Args: args}
	g.calls = append(g.calls, enter)
	g.seq++
	exit := enter
	exit.Seq, exit.Direction, exit.Ret, exit.Errno, exit.Matched = g.seq, api.Exit, ret, errno, true
	exit.RetText = strconv.FormatInt(ret, 10)
	if errno != "" {
		exit.RetText = "-1 " + errno
	}
	g.calls = append(g.calls, exit)
	return gp
}

// exit is exit_group's entry: it has no exit.
func (gp *gproc) exit() {
	g := gp.g
	g.seq++
	g.at = g.at.Add(gp.step)
	g.calls = append(g.calls, api.Syscall{Seq: g.seq, Time: g.at, Direction: api.Enter, Name: "exit_group",
		Process: gp.p, Args: []api.Arg{num(0, "")}, RetText: "?"})
}

// exec is a successful execve: the process has the program's name after.
func (gp *gproc) exec(path string, argv ...string) *gproc {
	gp.call("execve", 0, "", str(path), argvArg(argv), num(0x7ffc0000, "0x7ffc0000 /* 5 vars */"))
	gp.g.calls[len(gp.g.calls)-1].Process.Comm = path[strings.LastIndexByte(path, '/')+1:]
	gp.p.Comm = gp.g.calls[len(gp.g.calls)-1].Process.Comm
	return gp
}

func str(s string) api.Arg { return api.Arg{Raw: 0x1000, Text: `"` + escape.String(s) + `"`} }
func num(v int64, text string) api.Arg {
	if text == "" {
		text = strconv.FormatInt(v, 10)
	}
	return api.Arg{Raw: uint64(v), Text: text}
}
func fd(n int) api.Arg { return num(int64(n), "") }

var atFDCWDArg = api.Arg{Raw: 0xffffff9c, Text: "AT_FDCWD"}

func argvArg(argv []string) api.Arg {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = `"` + escape.String(a) + `"`
	}
	return api.Arg{Raw: 0x2000, Text: "[" + strings.Join(q, ", ") + "]"}
}

func openat(path string, flags int64, flagText string) []api.Arg {
	return []api.Arg{atFDCWDArg, str(path), num(flags, flagText), num(0o644, "0644")}
}

func sockaddrIn(ip string, port int) api.Arg {
	return api.Arg{Raw: 0x3000, Text: "{sa_family=AF_INET, sin_port=htons(" + strconv.Itoa(port) + "), sin_addr=inet_addr(\"" + ip + "\")}"}
}

// fired runs the built-in rules on the calls and returns the rules that
// fired, with the pid they fired for ("rule/pid"), sorted.
func fired(t *testing.T, rs *Rules, calls []api.Syscall, seed ...api.Process) []string {
	t.Helper()
	e := New(rs)
	e.Seed(seed)
	for i := range calls {
		e.Feed(&calls[i])
	}
	if e.EvalErrors > 0 {
		t.Errorf("%d evaluations failed", e.EvalErrors)
	}
	var got []string
	for _, f := range e.Findings() {
		got = append(got, f.Rule+"/"+strconv.Itoa(f.PID))
		if len(f.Evidence) == 0 || f.Evidence[0].Seq == 0 {
			t.Errorf("%s: no evidence", f.Rule)
		}
	}
	slices.Sort(got)
	return got
}

const (
	oWrCreatTrunc = 0x241
	wrText        = "O_WRONLY|O_CREAT|O_TRUNC"
)

// TestBuiltinRules runs each built-in rule on calls that should fire it and
// on look-alikes that should not.
func TestBuiltinRules(t *testing.T) {
	rs := Builtin()
	seed := []api.Process{
		{PID: 1, TID: 1, Comm: "init"},
		{PID: 100, TID: 100, PPID: 1, Comm: "nginx", UID: 33},
		{PID: 200, TID: 200, PPID: 1, Comm: "bash"},
		{PID: 300, TID: 300, PPID: 1, Comm: "sshd"},
	}
	cases := []struct {
		name  string
		calls func(g *guest)
		want  []string
	}{
		{"shell by a web server", func(g *guest) {
			g.proc(100, 1, "nginx", 33).call("clone", 101, "", num(0x1200011, "flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD"))
			g.proc(101, 100, "nginx", 33).exec("/bin/sh", "sh", "-c", "id")
		}, []string{"shell_spawned/101"}},
		{"interpreter by a web server", func(g *guest) {
			g.proc(102, 100, "nginx", 33).exec("/usr/bin/python3", "python3", "-c", "1")
		}, []string{"shell_spawned/102"}},
		{"shell by a shell, by sshd, by strace; a failed exec", func(g *guest) {
			g.proc(201, 200, "bash", 0).exec("/bin/sh", "sh")
			g.proc(301, 300, "sshd", 0).exec("/bin/bash", "bash")
			g.proc(400, 1, "strace", 0)
			g.proc(401, 400, "strace", 0).exec("/bin/sh", "sh")
			g.proc(103, 100, "nginx", 33).call("execve", -2, "ENOENT", str("/bin/sh"), argvArg([]string{"sh"}), num(0, "NULL"))
		}, nil},
		{"writes to sensitive files", func(g *guest) {
			p := g.proc(500, 1, "evil", 0)
			p.call("openat", 3, "", openat("/etc/shadow", oWrCreatTrunc, wrText)...)
			p.call("rename", 0, "", str("/tmp/p"), str("/etc/passwd"))
			p.call("chdir", 0, "", str("/etc/cron.d"))
			p.call("openat", 4, "", openat("job", 0x441, "O_WRONLY|O_CREAT|O_APPEND")...)
			g.proc(501, 1, "evil2", 0).call("open", 3, "", str("/root/.ssh/authorized_keys"), num(0x401, "O_WRONLY|O_APPEND"), num(0, "0"))
			g.proc(502, 1, "evil3", 0).call("openat", 3, "", openat("/etc/ld.so.preload", oWrCreatTrunc, wrText)...)
		}, []string{"sensitive_file_write/500", "sensitive_file_write/501", "sensitive_file_write/502"}},
		{"reads and failed writes of sensitive files", func(g *guest) {
			p := g.proc(510, 1, "cat", 0)
			p.call("openat", 3, "", openat("/etc/shadow", 0, "O_RDONLY")...)
			p.call("openat", -13, "EACCES", openat("/etc/passwd", 1, "O_WRONLY")...)
			p.call("openat", 3, "", openat("/etc/passwd.bak", oWrCreatTrunc, wrText)...)
		}, nil},
		{"kernel modules", func(g *guest) {
			g.proc(520, 1, "insmod", 0).call("finit_module", 0, "", fd(3), str(""), num(0, "0"))
			g.proc(521, 1, "loader", 0).call("init_module", -1, "EPERM", num(0x5000, "0x5000"), num(100, ""), str(""))
			g.proc(522, 1, "lsmod", 0).call("delete_module", 0, "", str("x"), num(0, "0"))
		}, []string{"kernel_module_load/520", "kernel_module_load/521"}},
		{"ptrace", func(g *guest) {
			g.proc(530, 1, "inject", 0).call("ptrace", 0, "", num(16, "PTRACE_ATTACH"), num(300, ""), num(0, "NULL"), num(0, "NULL"))
			g.proc(531, 1, "poke", 0).call("ptrace", 0, "", num(5, "PTRACE_POKEDATA"), num(300, ""), num(0x1000, "0x1000"), num(0, "0x0"))
			g.proc(532, 1, "strace", 0).call("ptrace", 0, "", num(0x4206, "16902"), num(533, ""), num(0, "NULL"), num(0, "NULL"))
			g.proc(534, 1, "child", 0).call("ptrace", 0, "", num(0, "PTRACE_TRACEME"), num(0, ""), num(0, "NULL"), num(0, "NULL"))
		}, []string{"ptrace_attach/530", "ptrace_attach/531"}},
		{"exec of a memfd", func(g *guest) {
			p := g.proc(540, 1, "loader", 0)
			p.call("memfd_create", 3, "", str(""), num(0, "0"))
			p.call("write", 1000, "", fd(3), str("\x7fELF"), num(1000, ""))
			p.call("execveat", 0, "", fd(3), str(""), argvArg([]string{"x"}), num(0, "NULL"), num(0x1000, "AT_EMPTY_PATH"))
			// /proc/self/fd too, from a child that inherited the memfd.
			q := g.proc(541, 1, "loader2", 0)
			q.call("memfd_create", 4, "", str("payload"), num(0, "0"))
			q.call("fork", 542, "")
			g.proc(542, 541, "loader2", 0).exec("/proc/self/fd/4", "x")
		}, []string{"fileless_exec/540", "fileless_exec/542"}},
		{"exec from temporary directories", func(g *guest) {
			g.proc(550, 1, "sh", 0).exec("/tmp/.x/dropper", "dropper")
			g.proc(551, 1, "sh", 0).exec("/dev/shm/m", "m")
			g.proc(552, 1, "sh", 0).exec("/usr/bin/tmpwatch", "tmpwatch")
		}, []string{"exec_from_temp/550", "exec_from_temp/551"}},
		{"exec of a deleted file", func(g *guest) {
			p := g.proc(560, 1, "runner", 0)
			p.call("openat", 3, "", openat("/var/lib/x/bin", 0, "O_RDONLY")...)
			p.call("unlink", 0, "", str("/var/lib/x/bin"))
			p.call("execveat", 0, "", fd(3), str(""), argvArg([]string{"bin"}), num(0, "NULL"), num(0x1000, "AT_EMPTY_PATH"))
			// Not deleted: the same without the unlink.
			q := g.proc(561, 1, "runner", 0)
			q.call("openat", 3, "", openat("/var/lib/x/bin", 0, "O_RDONLY")...)
			q.call("execveat", 0, "", fd(3), str(""), argvArg([]string{"bin"}), num(0, "NULL"), num(0x1000, "AT_EMPTY_PATH"))
		}, []string{"exec_deleted/560"}},
		{"setuid(0) and capset by a user", func(g *guest) {
			g.proc(570, 1, "exploit", 1000).call("setuid", -1, "EPERM", num(0, "0"))
			g.proc(571, 1, "exploit", 1000).call("setresuid", -1, "EPERM", num(0xffffffff, "-1"), num(0, "0"), num(0xffffffff, "-1"))
			g.proc(572, 1, "capper", 1000).call("capset", 0, "", num(0x6000, "0x6000"), num(0x6010, "0x6010"))
			g.proc(573, 1, "daemon", 0).call("setuid", 0, "", num(1000, ""))            // root dropping rights
			g.proc(574, 1, "user", 1000).call("setuid", 0, "", num(1000, ""))           // a user to itself
			g.proc(575, 1, "daemon", 0).call("capset", 0, "", num(0, "0"), num(0, "0")) // root
		}, []string{"capset_non_root/572", "setuid_root/570", "setuid_root/571"}},
		{"setuid(0) judged by the uid at entry", func(g *guest) {
			p := g.proc(576, 1, "suid", 1000)
			p.call("setuid", 0, "", num(0, "0"))
			g.calls[len(g.calls)-1].Process.UID = 0 // it worked: root at the exit
		}, []string{"setuid_root/576"}},
		{"a process unlinking its own program", func(g *guest) {
			p := g.proc(580, 1, "sh", 0).exec("/usr/local/bin/agent", "agent")
			p.call("unlink", 0, "", str("/usr/local/bin/agent"))
			p.call("unlink", 0, "", str("/usr/local/bin/other"))
			q := g.proc(581, 1, "sh", 0).exec("/usr/local/bin/agent2", "agent2")
			q.call("chdir", 0, "", str("/usr/local"))
			q.call("unlinkat", 0, "", atFDCWDArg, str("bin/agent2"), num(0, "0"))
		}, []string{"unlink_own_exe/580", "unlink_own_exe/581"}},
		{"a reused pid is another process", func(g *guest) {
			old := g.proc(900, 1, "sh", 0).exec("/usr/bin/agent", "agent")
			old.exit()
			g.proc(900, 1, "rm", 0).call("unlink", 0, "", str("/usr/bin/agent")) // its fork unseen
			g.proc(901, 1, "sh", 0).exec("/usr/bin/agent2", "agent2").exit()
			g.proc(200, 1, "bash", 0).call("fork", 901, "")
			g.proc(901, 200, "bash", 0).call("unlink", 0, "", str("/usr/bin/agent2"))
		}, nil},
		{"outbound connects", func(g *guest) {
			p := g.proc(590, 1, "curl", 0)
			p.call("socket", 3, "", num(2, "AF_INET"), num(1, "SOCK_STREAM"), num(6, "IPPROTO_TCP"))
			p.call("connect", -101, "ENETUNREACH", fd(3), sockaddrIn("93.184.216.34", 443), num(16, ""))
			q := g.proc(591, 1, "local", 0)
			q.call("socket", 3, "", num(2, "AF_INET"), num(1, "SOCK_STREAM"), num(6, "IPPROTO_TCP"))
			q.call("connect", 0, "", fd(3), sockaddrIn("10.1.2.3", 80), num(16, ""))
			q.call("connect", 0, "", fd(3), sockaddrIn("127.0.0.1", 80), num(16, ""))
			q.call("connect", 0, "", fd(4), api.Arg{Raw: 0x3000, Text: `{sa_family=AF_UNIX, sun_path="/run/x"}`}, num(9, ""))
		}, []string{"outbound_connect/590"}},
		{"mass renames", func(g *guest) {
			p := g.proc(600, 1, "crypt", 0)
			for i := range 20 {
				p.call("rename", 0, "", str("/home/u/f"+strconv.Itoa(i)), str("/home/u/f"+strconv.Itoa(i)+".enc"))
			}
			slow := g.proc(601, 1, "mv", 0)
			slow.step = time.Second
			for i := range 30 {
				slow.call("rename", 0, "", str("/a"+strconv.Itoa(i)), str("/b"+strconv.Itoa(i)))
			}
		}, []string{"mass_rename/600"}},
		{"mass writes", func(g *guest) {
			p := g.proc(610, 1, "crypt", 0)
			for i := range 50 {
				p.call("openat", 3, "", openat("/home/u/d"+strconv.Itoa(i), oWrCreatTrunc, wrText)...)
			}
			q := g.proc(611, 1, "few", 0)
			for i := range 49 {
				q.call("openat", 3, "", openat("/home/u/e"+strconv.Itoa(i), oWrCreatTrunc, wrText)...)
			}
		}, []string{"mass_write/610"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := newGuest()
			c.calls(g)
			if got := fired(t, rs, g.calls, seed...); !slices.Equal(got, c.want) {
				t.Errorf("fired %v, want %v", got, c.want)
			}
		})
	}
}

// TestEveryBuiltinRuleTested keeps TestBuiltinRules covering the set.
func TestEveryBuiltinRuleTested(t *testing.T) {
	tested := []string{"shell_spawned", "sensitive_file_write", "kernel_module_load", "ptrace_attach", "fileless_exec",
		"exec_from_temp", "exec_deleted", "setuid_root", "capset_non_root", "unlink_own_exe", "outbound_connect",
		"mass_rename", "mass_write"}
	for _, r := range Builtin().Rules() {
		if !slices.Contains(tested, r.Name) {
			t.Errorf("built-in rule %s has no test case", r.Name)
		}
		if r.types == nil {
			t.Errorf("built-in rule %s runs on every call: its condition names no evt.type", r.Name)
		}
	}
}

// TestFindingEvidence checks a finding's fields: counted per process, its
// evidence the matching calls by seq, as strace prints them.
func TestFindingEvidence(t *testing.T) {
	g := newGuest()
	p := g.proc(700, 1, "x\x1b[31m", 0)
	for range 20 {
		p.call("finit_module", -9, "EBADF", fd(-1), str(""), num(0, "0"))
	}
	e := New(Builtin())
	for i := range g.calls {
		e.Feed(&g.calls[i])
	}
	fs := e.Findings()
	if len(fs) != 1 {
		t.Fatalf("findings %+v, want one", fs)
	}
	f := fs[0]
	if f.Count != 20 || len(f.Evidence) != maxEvidence || f.Severity != Critical || f.Comm != `x\x1b[31m` {
		t.Errorf("finding %+v", f)
	}
	if ev := f.Evidence[0]; ev.Seq != 2 || ev.Entry != 1 || ev.Text != `finit_module(-1, "", 0) = -1 EBADF` {
		t.Errorf("first evidence %+v, want the first exit (seq 2, entry 1) as strace prints it", ev)
	}
}

// TestRuleFileErrors checks that a rule file's mistakes name their line.
func TestRuleFileErrors(t *testing.T) {
	cases := []struct {
		name, text string
		line       int
		says       string
	}{
		{"JSON syntax", "[\n {\"rule\": \"a\",\n  \"why\": \"x\" \"severity\": \"error\"}\n]", 3, "invalid character"},
		{"not a list", "{\"rule\": \"a\"}", 1, "JSON list"},
		{"unknown key", "[\n {\"rule\": \"a\", \"why\": \"x\", \"severity\": \"error\",\n  \"conditon\": \"true\"}\n]", 3, "unknown field"},
		{"condition", "[\n {\"rule\": \"a\", \"why\": \"x\", \"severity\": \"error\",\n\n  \"condition\": \"proc.nam == 'sh'\"}\n]", 4, "condition:"},
		{"condition syntax", "[{\"rule\": \"a\", \"why\": \"x\", \"severity\": \"error\", \"condition\": \"evt.type ==\"}]", 1, "condition:"},
		{"severity", "[\n\n {\"rule\": \"a\", \"why\": \"x\", \"severity\": \"dire\", \"condition\": \"true\"}]", 3, "unknown severity"},
		{"no why", "[{\"rule\": \"a\", \"severity\": \"error\", \"condition\": \"true\"}]", 1, "needs severity, why and condition"},
		{"macro", "[\n{\"macro\": \"m\", \"condition\": \"evt.typo\"}]", 2, "condition:"},
		{"taken name", "[\n{\"list\": \"shell_binaries\", \"items\": []}]", 2, "defined already"},
		{"field name", "[\n{\"list\": \"proc\", \"items\": []}]", 2, "is a field"},
		{"two kinds", "[\n{\"list\": \"l\", \"rule\": \"r\"}]", 2, "one of"},
		{"threshold", "[\n{\"rule\": \"a\", \"why\": \"x\", \"severity\": \"error\", \"condition\": \"true\", \"threshold\": {\"count\": 1, \"within\": \"1s\"}}]", 2, "threshold"},
		{"not bool", "[\n{\"rule\": \"a\", \"why\": \"x\", \"severity\": \"error\", \"condition\": \"evt.type\"}]", 2, "condition:"},
		{"text after", "[]\n[]", 2, "text after"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(Builtin(), "my.json", []byte(c.text))
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("Load: %v, want a LoadError", err)
			}
			if le.Line != c.line || le.File != "my.json" || !strings.Contains(err.Error(), c.says) {
				t.Errorf("error %q (line %d), want line %d saying %q", err, le.Line, c.line, c.says)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans lines", err)
			}
		})
	}
}

// TestRuleFileOverBuiltin loads rules over the built-in set: using its
// lists and macros, replacing one of its rules, turning one off.
func TestRuleFileOverBuiltin(t *testing.T) {
	text := `[
  {"list": "my_shells", "items": ["sh"]},
  {"rule": "my_shell", "severity": "notice", "why": "any shell",
   "condition": "spawned_process and proc.name in my_shells"},
  {"rule": "exec_from_temp", "severity": "info", "why": "relaxed", "condition": "spawned_process and proc.exepath startsWith '/tmp/'"},
  {"rule": "kernel_module_load", "enabled": false}
]`
	rs, err := Load(Builtin(), "mine.json", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if n, b := len(rs.Rules()), len(Builtin().Rules()); n != b {
		t.Errorf("%d rules, want %d (one added, one off)", n, b)
	}
	g := newGuest()
	g.proc(800, 1, "bash", 0).exec("/tmp/sh", "sh")
	g.proc(801, 1, "insmod", 0).call("init_module", 0, "", num(0, "0"), num(0, ""), str(""))
	e := New(rs)
	for i := range g.calls {
		e.Feed(&g.calls[i])
	}
	var got []string
	for _, f := range e.Findings() {
		got = append(got, f.Rule+":"+f.Severity.String())
	}
	want := []string{"my_shell:notice", "exec_from_temp:informational"}
	if !slices.Equal(got, want) {
		t.Errorf("findings %v, want %v", got, want)
	}
	if _, err := Load(Builtin(), "x.json", []byte(`[{"rule": "nope", "enabled": false}]`)); err == nil {
		t.Error("turning off a rule that is not there: no error")
	}
}

// TestCallTypes checks the index of rules by call: a rule runs only on the
// calls its condition requires, and on all when it requires none.
func TestCallTypes(t *testing.T) {
	cases := map[string][]string{
		"evt.type == 'openat'":                                      {"openat"},
		"evt.type in ['a', 'b'] and proc.name == 'x'":               {"a", "b"},
		"proc.name == 'x' and (evt.type == 'a' or evt.type == 'b')": {"a", "b"},
		"evt.type in ['a', 'b'] and evt.type in ['b', 'c']":         {"b"},
		"evt.type == 'a' or proc.name == 'x'":                       nil,
		"not (evt.type == 'a')":                                     nil,
		"spawned_process":                                           {"execve", "execveat"},
	}
	rs := Builtin()
	for cond, want := range cases {
		_, tree, err := rs.compile(cond, nil)
		if err != nil {
			t.Fatalf("%s: %v", cond, err)
		}
		if got := callTypes(tree); !slices.Equal(got, want) || (got == nil) != (want == nil) {
			t.Errorf("%s: calls %q, want %q", cond, got, want)
		}
	}
}

// TestBoundedState checks that a guest with endless processes and
// descriptors keeps the engine's memory bounded.
func TestBoundedState(t *testing.T) {
	e := New(Builtin())
	g := newGuest()
	p := g.proc(2, 1, "many", 0)
	for i := range maxFDs + 100 {
		p.call("openat", int64(3+i), "", openat("/f", 0, "O_RDONLY")...)
	}
	for i := range maxProcs + 100 {
		g.proc(10+i, 1, "p", 0).call("getpid", int64(10+i), "")
	}
	for i := range g.calls {
		e.Feed(&g.calls[i])
	}
	if n := len(e.st.procs); n > maxProcs {
		t.Errorf("%d processes kept, bound %d", n, maxProcs)
	}
	for _, pr := range e.st.procs {
		if len(pr.fds) > maxFDs {
			t.Errorf("%d descriptors kept, bound %d", len(pr.fds), maxFDs)
		}
	}
}

func TestSockaddr(t *testing.T) {
	cases := map[string]FD{
		`{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("1.2.3.4")}`: {Type: "ipv4", Name: "1.2.3.4:80", RIP: "1.2.3.4", RPort: 80},
		`{sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}`: {
			Type: "ipv6", Name: "[::1]:443", RIP: "::1", RPort: 443, RIPLocal: true},
		`{sa_family=AF_UNIX, sun_path=@"x\n"}`:                 {Type: "unix", Name: "@x\n"},
		`{sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}`: {Type: "netlink"},
	}
	for text, want := range cases {
		want.Num = 0
		got, ok := sockaddr(text)
		if !ok || got != want {
			t.Errorf("%s: %+v, want %+v", text, got, want)
		}
	}
	if _, ok := sockaddr("0x7ffc1000"); ok {
		t.Error("an address nitro could not read decoded")
	}
}
