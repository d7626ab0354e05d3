package triage

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr/vm"

	"nitro/api"
	"nitro/internal/escape"
)

const (
	maxEvidence = 16    // evidence calls kept per finding
	maxFindings = 10000 // findings kept; more are counted in Dropped
)

// Finding is one rule firing for one process: when first and last, how
// often, and the calls that show it.
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Why      string   `json:"why"`
	PID      int      `json:"pid"`
	Comm     string   `json:"comm"`          // escaped
	Exe      string   `json:"exe,omitempty"` // escaped; the program, when its exec was seen
	// Count is how many calls matched: for a rate rule, those of the window
	// that fired it and every one after.
	Count int       `json:"count"`
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	// Evidence are the first matching calls (at most maxEvidence).
	Evidence []Evidence `json:"evidence"`
}

// Evidence is one call of a finding, by seq, with its text as trace
// prints it.
type Evidence struct {
	Seq uint64 `json:"seq"` // the event judged: the call's exit, or the entry of one that never returns
	// Entry is the seq of the call's entry, which a viewer's row of the
	// call goes by; 0 when it was not seen.
	Entry uint64 `json:"entry,omitempty"`
	TID   int    `json:"tid"`
	Text  string `json:"text"` // escaped, strace's form
}

// Engine runs a rule set over one stream of calls. It is not safe for
// concurrent use.
type Engine struct {
	byType map[string][]typedRule
	any    []*Rule // rules that may hold for any call
	args   bool    // a rule reads evt.args
	st     *state
	env    Env // its parts point to these
	evt    Evt
	proc   Proc
	fd     FD
	fs     FSPath
	user   User
	vm     vm.VM

	found   map[findingKey]*Finding
	windows map[findingKey]*window
	hidden  map[int]*Finding // hidden_process findings by pid (Listed)
	act     *activity        // nil unless KeepActivity
	// Changes counts the findings made or grown: a viewer redraws when
	// it moves.
	Changes uint64
	// EvalErrors counts conditions that failed to evaluate (an index past
	// a call's arguments): the rule did not fire.
	EvalErrors uint64
	// Dropped counts findings not kept, past maxFindings.
	Dropped uint64
}

type findingKey struct {
	rule *Rule
	pid  int
}

// window is a rate rule's recent matches for one process, oldest first.
type window struct {
	times []time.Time
	ev    []Evidence
}

// New makes an engine running rs.
func New(rs *Rules) *Engine {
	e := &Engine{
		byType:  map[string][]typedRule{},
		st:      newState(),
		found:   map[findingKey]*Finding{},
		windows: map[findingKey]*window{},
		hidden:  map[int]*Finding{},
	}
	e.env = Env{Evt: &e.evt, Proc: &e.proc, FD: &e.fd, FS: &FS{Path: &e.fs}, User: &e.user}
	for _, r := range rs.rules {
		e.args = e.args || r.args
		if r.types == nil {
			e.any = append(e.any, r)
			continue
		}
		for t, prog := range r.progs {
			e.byType[t] = append(e.byType[t], typedRule{r, prog})
		}
	}
	return e
}

// typedRule is a rule compiled for one call.
type typedRule struct {
	r    *Rule
	prog *vm.Program
}

// Seed gives the engine the guest's processes as a session lists them,
// before the first call: their names, parents and uids.
func (e *Engine) Seed(ps []api.Process) { e.st.seed(ps) }

// Feed runs the rules on one call. Calls come in stream order, entries
// and exits. An exit whose entry came before nitro did is not judged:
// its arguments are not known.
func (e *Engine) Feed(sc *api.Syscall) {
	st := e.st
	if sc.Direction == api.Enter {
		if len(st.entries) >= maxThreads {
			clear(st.entries)
		}
		st.entries[sc.Process.TID] = entry{sc.Seq, sc.Process.UID}
		if !sc.NoReturn() {
			return // judged at its exit, with its result
		}
	} else if !sc.Matched {
		return
	}
	p := st.proc(sc.Process.PID)
	if p.exited && sc.Name != "exit_group" {
		*p = proc{} // its pid was reused: another process, whose fork nitro missed
	}
	if p.first == 0 {
		p.first = sc.Seq
	}
	p.comm, p.ppid, p.uid = sc.Process.Comm, sc.Process.PPID, sc.Process.UID
	if f := e.hidden[sc.Process.PID]; f != nil {
		e.hiddenCall(f, sc)
	}
	if e.act != nil {
		e.act.seen(sc) // every process that makes a call is in the lineage
	}
	rules, anyRules := e.byType[sc.Name], e.any
	_, tracked := tracks[sc.Name]
	shown := e.act != nil && e.act.wants(sc, tracked)
	if len(rules) == 0 && len(anyRules) == 0 && !tracked && !shown {
		return
	}
	fd, fsp := st.describe(p, sc)
	if isExec(sc) {
		p.exec(sc, p.exeEntry(sc, sc.Process.PID, fsp.Name)) // before the rules: they judge the new program
	}
	if len(rules)+len(anyRules) > 0 {
		e.fill(p, sc, fd, fsp)
		for _, tr := range rules {
			e.eval(tr.r, tr.prog, p, sc)
		}
		for _, r := range anyRules {
			e.eval(r, r.prog, p, sc)
		}
	}
	if shown {
		e.act.feed(sc, cmp.Or(e.entrySeq(sc), sc.Seq), fd, fsp)
	}
	if tracked {
		st.after(p, sc, e.entrySeq(sc), fd, fsp)
	}
}

func (e *Engine) eval(r *Rule, prog *vm.Program, p *proc, sc *api.Syscall) {
	out, err := e.vm.Run(prog, &e.env)
	if err != nil {
		e.EvalErrors++
		return
	}
	if hit, _ := out.(bool); hit {
		e.match(r, p, sc)
	}
}

// fill sets the fields the conditions read from the call and what the
// engine knows of its process.
func (e *Engine) fill(p *proc, sc *api.Syscall, fd FD, fsp FSPath) {
	ev := &e.evt
	ev.Type, ev.ABI, ev.Num, ev.RawRes = sc.Name, sc.ABI.String(), sc.Seq, sc.Ret
	ev.Failed, ev.Res = sc.Failed(), ""
	if sc.IsExit() {
		ev.Res = cmp.Or(sc.Errno, "SUCCESS")
	}
	ev.Arg, ev.RawArg = ev.Arg[:0], ev.RawArg[:0]
	for _, a := range sc.Args {
		ev.Arg = append(ev.Arg, a.Text)
		ev.RawArg = append(ev.RawArg, int64(a.Raw))
	}
	if e.args {
		ev.Args = strings.Join(ev.Arg, ", ")
	}
	ev.IsOpenWrite = isOpenWrite(sc)
	pr := &e.proc
	pr.Name, pr.PID, pr.TID, pr.PPID = sc.Process.Comm, sc.Process.PID, sc.Process.TID, sc.Process.PPID
	pr.PName = ""
	if parent := e.st.procs[sc.Process.PPID]; parent != nil {
		pr.PName = parent.comm
	}
	pr.ExePath, pr.Cmdline, pr.IsExeFromMemfd, pr.IsExeDeleted = p.exe, p.cmdline, p.memfd, p.deleted
	e.fd, e.fs = fd, fsp
	e.user.UID = sc.Process.UID
	if en, ok := e.st.entries[sc.Process.TID]; ok && sc.IsExit() {
		e.user.UID = en.uid
	}
}

// isOpenWrite says whether an open asks to write, create or truncate.
func isOpenWrite(sc *api.Syscall) bool {
	var flags int
	switch sc.Name {
	case "creat":
		return true
	case "open":
		flags = 1
	case "openat":
		flags = 2
	default:
		return false // openat2's flags are in a struct nitro does not read
	}
	if flags >= len(sc.Args) {
		return false
	}
	f := sc.Args[flags].Raw
	return f&oWrite != 0 || f&(oCreat|oTrunc) != 0
}

func isExec(sc *api.Syscall) bool {
	return sc.IsExit() && !sc.Failed() && (sc.Name == "execve" || sc.Name == "execveat")
}

// match records that r held for sc.
func (e *Engine) match(r *Rule, p *proc, sc *api.Syscall) {
	key := findingKey{r, sc.Process.PID}
	f := e.found[key]
	if f == nil && r.Threshold != nil {
		w := e.windows[key]
		if w == nil {
			if len(e.windows) >= maxProcs {
				clear(e.windows) // rates restart: bounded beats exact
			}
			w = &window{}
			e.windows[key] = w
		}
		w.times = append(w.times, sc.Time)
		w.ev = append(w.ev, e.evidence(sc))
		old := 0
		for old < len(w.times) && sc.Time.Sub(w.times[old]) > r.Threshold.Within {
			old++
		}
		w.times, w.ev = w.times[old:], w.ev[old:]
		if len(w.times) < r.Threshold.Count {
			return
		}
		delete(e.windows, key)
		if f = e.newFinding(key, p, sc); f != nil {
			f.First, f.Count = w.times[0], len(w.times)
			f.Evidence = w.ev[:min(len(w.ev), maxEvidence)]
			e.Changes++
		}
		return
	}
	if f == nil {
		if f = e.newFinding(key, p, sc); f == nil {
			return
		}
		f.First = sc.Time
	}
	f.Count++
	f.Last = sc.Time
	if len(f.Evidence) < maxEvidence {
		f.Evidence = append(f.Evidence, e.evidence(sc))
	}
	e.Changes++
}

func (e *Engine) newFinding(key findingKey, p *proc, sc *api.Syscall) *Finding {
	if len(e.found) >= maxFindings {
		e.Dropped++
		return nil
	}
	r := key.rule
	f := &Finding{
		Rule: r.Name, Severity: r.Severity, Why: r.Why, PID: key.pid,
		Comm: escape.String(sc.Process.Comm), Exe: escape.String(p.exe), Last: sc.Time,
	}
	e.found[key] = f
	return f
}

func (e *Engine) evidence(sc *api.Syscall) Evidence {
	return Evidence{Seq: sc.Seq, Entry: e.entrySeq(sc), TID: sc.Process.TID, Text: api.CallText(sc, api.Whole)}
}

// entrySeq is the seq of the entry of the call sc ends (sc's own for an
// entry), 0 when it was not seen.
func (e *Engine) entrySeq(sc *api.Syscall) uint64 {
	if !sc.IsExit() {
		return sc.Seq
	}
	if en, ok := e.st.entries[sc.Process.TID]; ok {
		return en.seq
	}
	return 0
}

// Findings are the findings so far, copied, most severe first, then in
// the order they were first seen.
func (e *Engine) Findings() []Finding {
	out := make([]Finding, 0, len(e.found))
	for _, f := range e.found {
		c := *f
		c.Evidence = slices.Clone(f.Evidence)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(a.firstSeq(), b.firstSeq()),
			strings.Compare(a.Rule, b.Rule), cmp.Compare(a.PID, b.PID))
	})
	return out
}

// firstSeq is the seq of f's first evidence call; a finding with none (a
// hidden_process finding before the process made a call) comes after the
// others of its severity, which a viewer can jump to.
func (f *Finding) firstSeq() uint64 {
	if len(f.Evidence) == 0 {
		return math.MaxUint64
	}
	return f.Evidence[0].Seq
}

// tracks are the calls that change what the engine knows of a process.
var tracks = map[string]struct{}{
	"open": {}, "openat": {}, "openat2": {}, "creat": {}, "memfd_create": {}, "socket": {},
	"accept": {}, "accept4": {}, "connect": {}, "bind": {}, "dup": {}, "dup2": {}, "dup3": {},
	"close": {}, "unlink": {}, "unlinkat": {}, "chdir": {}, "fchdir": {}, "clone": {},
	"fork": {}, "vfork": {}, "exit_group": {}, "execve": {}, "execveat": {},
}

// describe says what file or socket a call works on, and its paths.
func (s *state) describe(p *proc, sc *api.Syscall) (FD, FSPath) {
	fd := FD{Num: -1}
	var fsp FSPath
	if pa, ok := pathCalls[sc.Name]; ok {
		fsp.Name = p.pathAt(sc, pa.dir, pa.path)
		if pa.path2 >= 0 {
			// The call makes a new name: that is the file it writes.
			fsp.Source, fsp.Target = fsp.Name, p.pathAt(sc, pa.dir2, pa.path2)
			fsp.Name = fsp.Target
		}
		fd.Name, fd.Type = fsp.Name, "file"
		switch {
		case sc.Name == "execve" || sc.Name == "execveat":
			e := p.exeEntry(sc, sc.Process.PID, fsp.Name)
			fd.Name, fd.Type = e.name, e.typ
		case strings.HasPrefix(sc.Name, "open") || sc.Name == "creat":
			if sc.IsExit() && !sc.Failed() {
				fd.Num = sc.Ret
			}
		}
		return fd, fsp
	}
	switch sc.Name {
	case "socket":
		if len(sc.Args) > 0 {
			fd.Type = sockFamily(sc.Args[0])
		}
		fd.Num = sc.Ret
	case "memfd_create":
		if len(sc.Args) > 0 {
			name, _ := unquote(sc.Args[0].Text)
			fd.Name = "memfd:" + name
		}
		fd.Type, fd.Num = "memfd", sc.Ret
	}
	if !fdCalls[sc.Name] {
		return fd, fsp
	}
	fd.Num = int64(fdArg(sc, 0))
	e := p.fds[int(fd.Num)]
	fd.Name, fd.Type = e.name, e.typ
	addr := -1
	switch sc.Name {
	case "connect", "bind", "accept", "accept4":
		addr = 1
	case "sendto":
		addr = 4
	}
	if addr >= 0 && addr < len(sc.Args) {
		if a, ok := sockaddr(sc.Args[addr].Text); ok {
			a.Num = fd.Num
			if a.Type == "unix" && a.Name == "" {
				a.Name = fd.Name
			}
			fd = a
		}
	}
	if sc.Name == "accept" || sc.Name == "accept4" {
		fd.Num = sc.Ret // the accepted connection's
	}
	return fd, fsp
}

// exec makes p run the program exe: what it is, and the descriptors it
// keeps.
func (p *proc) exec(sc *api.Syscall, exe fdEntry) {
	p.exe, p.memfd, p.deleted = exe.name, exe.typ == "memfd", exe.deleted
	argv := 1
	if sc.Name == "execveat" {
		argv = 2
	}
	p.cmdline = ""
	if argv < len(sc.Args) {
		p.cmdline = sc.Args[argv].Text
	}
	maps.DeleteFunc(p.fds, func(_ int, e fdEntry) bool { return e.cloexec })
}

// after updates what the engine knows once the call is done; entrySeq is
// the seq of the call's entry.
func (s *state) after(p *proc, sc *api.Syscall, entrySeq uint64, fd FD, fsp FSPath) {
	if sc.Name == "exit_group" {
		p.exited = true
		return
	}
	if !sc.IsExit() || sc.Failed() {
		return
	}
	arg := func(i int) uint64 {
		if i < len(sc.Args) {
			return sc.Args[i].Raw
		}
		return 0
	}
	switch sc.Name {
	case "open", "creat", "openat", "openat2":
		flags := uint64(0)
		switch sc.Name {
		case "open":
			flags = arg(1)
		case "openat":
			flags = arg(2)
		}
		p.addFD(int(sc.Ret), fdEntry{name: fsp.Name, typ: "file", cloexec: flags&oCloexec != 0})
	case "memfd_create":
		p.addFD(int(sc.Ret), fdEntry{name: fd.Name, typ: "memfd", cloexec: arg(1)&1 != 0}) // MFD_CLOEXEC
	case "socket":
		p.addFD(int(sc.Ret), fdEntry{typ: fd.Type, cloexec: arg(1)&oCloexec != 0}) // SOCK_CLOEXEC
	case "accept", "accept4":
		p.addFD(int(sc.Ret), fdEntry{name: fd.Name, typ: fd.Type})
	case "connect", "bind":
		if e, ok := p.fds[int(fd.Num)]; ok && fd.Name != "" {
			e.name = fd.Name
			p.fds[int(fd.Num)] = e
		}
	case "dup", "dup2", "dup3":
		if e, ok := p.fds[int(int32(arg(0)))]; ok {
			e.cloexec = sc.Name == "dup3" && arg(2)&oCloexec != 0
			p.addFD(int(sc.Ret), e)
		}
	case "close":
		delete(p.fds, int(fd.Num))
	case "unlink", "unlinkat":
		for n, e := range p.fds {
			if e.name == fsp.Name {
				e.deleted = true
				p.fds[n] = e
			}
		}
	case "chdir":
		if strings.HasPrefix(fsp.Name, "/") {
			p.cwd = fsp.Name
		}
	case "fchdir":
		p.cwd = fd.Name
	case "clone", "fork", "vfork":
		if sc.Ret <= 0 || slices.ContainsFunc(sc.Args, func(a api.Arg) bool { return strings.Contains(a.Text, "CLONE_THREAD") }) {
			return // a thread shares its process's state
		}
		child := s.proc(int(sc.Ret))
		if child.first != 0 && child.first > entrySeq {
			return // the child ran (and maybe exec'd) before the fork returned: it knows better
		}
		// A new process, a copy of its parent; whatever the pid held before
		// was another process's.
		*child = proc{comm: p.comm, ppid: sc.Process.PID, uid: p.uid, exe: p.exe, cmdline: p.cmdline,
			memfd: p.memfd, deleted: p.deleted, cwd: p.cwd, fds: maps.Clone(p.fds)}
	}
}
