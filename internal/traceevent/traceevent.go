package traceevent

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"nitro/api"
	"nitro/internal/escape"
)

// Writer streams calls as one Trace Event JSON object (see the package
// documentation). It keeps, per thread, its name and the call still open,
// never the events already written: a recording of any length exports in
// the memory of its threads. It is not safe for concurrent use.
type Writer struct {
	bw      *bufio.Writer
	enc     *json.Encoder
	start   time.Time
	threads map[int]*thread
	procs   map[int]string // process names written, by pid
	leaders map[int]string // each process's name in the latest process table
	events  int
	err     error // the first write error: the output is broken from there
}

type thread struct {
	name string
	open *api.Syscall // the entry whose exit is still to come
	// last is where the thread's last slice ends: a call whose entry was
	// not recorded starts there.
	last time.Time
}

// event is one Trace Event. Every phase carries name, ph, ts, pid and tid;
// dur is there on "X" only.
type event struct {
	Name string      `json:"name"`
	Ph   string      `json:"ph"`
	TS   json.Number `json:"ts"`
	Dur  json.Number `json:"dur,omitempty"`
	PID  int         `json:"pid"`
	TID  int         `json:"tid"`
	Args any         `json:"args"`
}

// callArgs are a call slice's args.
type callArgs struct {
	Call string   `json:"call"`
	Args []string `json:"args"`
	Ret  string   `json:"ret,omitempty"`
	Seq  uint64   `json:"seq"`
}

// nameArgs are a process_name or thread_name metadata event's args.
type nameArgs struct {
	Name string `json:"name"`
}

// New writes the head of the JSON object to w and returns a writer of the
// events after it. start is the instant ts 0 stands for; about goes to
// otherData, escaped (Perfetto shows it as the trace's metadata).
func New(w io.Writer, start time.Time, about map[string]string) (*Writer, error) {
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false) // the texts are printable ASCII already: keep them readable
	other := map[string]string{"start": start.UTC().Format(time.RFC3339Nano)}
	for k, v := range about {
		other[k] = escape.String(v)
	}
	tw := &Writer{bw: bw, enc: enc, start: start, threads: map[int]*thread{}, procs: map[int]string{}}
	// Perfetto reads otherData only before traceEvents, and stops at a key
	// it does not know.
	bw.WriteString(`{"otherData":`)
	tw.err = enc.Encode(other)
	bw.WriteString(`,"traceEvents":[` + "\n")
	return tw, tw.err
}

// Processes takes the guest's process table, which names a process whose
// leader made no call yet.
func (w *Writer) Processes(procs []api.Process) {
	w.leaders = make(map[int]string, len(procs))
	for _, p := range procs {
		if p.TID == p.PID {
			w.leaders[p.PID] = p.Comm
		}
	}
}

// Write adds one event: a slice is written when its call ends, or when it
// is known that its end will not be seen.
func (w *Writer) Write(sc *api.Syscall) error {
	th := w.thread(sc)
	if sc.Direction == api.Enter {
		w.cut(sc.Process, th, sc.Time)
		entry := *sc
		th.open = &entry
		return w.err
	}
	if th.open != nil && sc.Matched {
		entry := th.open
		th.open, th.last = nil, sc.Time
		args := sc.Args
		if len(args) == 0 { // an exit may leave them to its entry
			args = entry.Args
		}
		w.slice("X", sc.Process, entry.Time, sc.Time, callName(entry), api.CallText(sc, api.Whole), args, sc.RetText, entry.Seq)
		return w.err
	}
	w.cut(sc.Process, th, sc.Time)
	w.slice("X", sc.Process, th.last, sc.Time, callName(sc), api.CallText(sc, api.Resumed), sc.Args, sc.RetText, sc.Seq)
	th.last = sc.Time
	return w.err
}

// cut ends the thread's open call at, where the thread went on without its
// exit: the call was over by then.
func (w *Writer) cut(p api.Process, th *thread, at time.Time) {
	if th.open == nil {
		return
	}
	e := th.open
	th.open, th.last = nil, at
	w.slice("X", p, e.Time, at, callName(e), openText(e), e.Args, e.RetText, e.Seq)
}

// openText is the text of a call whose exit was not seen: whole for one
// that never returns (exit_group(0) = ?), else unfinished.
func openText(e *api.Syscall) string {
	if e.NoReturn() {
		return api.CallText(e, api.Whole)
	}
	return api.CallText(e, api.Unfinished)
}

// Close writes the calls still open as slices that did not end, in the
// order they began, and the end of the JSON object. It does not close the
// underlying writer.
func (w *Writer) Close() error {
	var open []*api.Syscall
	for _, th := range w.threads {
		if th.open != nil {
			open = append(open, th.open)
		}
	}
	slices.SortFunc(open, func(a, b *api.Syscall) int { return cmp.Compare(a.Seq, b.Seq) })
	for _, e := range open {
		w.slice("B", e.Process, e.Time, e.Time, callName(e), openText(e), e.Args, e.RetText, e.Seq)
	}
	if w.err == nil {
		w.bw.WriteString("]}\n")
		w.err = w.bw.Flush()
	}
	return w.err
}

// thread returns sc's thread, naming it, and its process, in metadata
// events when they are new or their names changed (an execve).
func (w *Writer) thread(sc *api.Syscall) *thread {
	p := &sc.Process
	th := w.threads[p.TID]
	if th == nil {
		th = &thread{last: w.start}
		w.threads[p.TID] = th
	}
	if name := escape.String(p.Comm); name != th.name {
		th.name = name
		w.write(event{Name: "thread_name", Ph: "M", TS: w.ts(sc.Time), PID: p.PID, TID: p.TID, Args: nameArgs{name}})
	}
	old, named := w.procs[p.PID]
	name := old
	switch {
	case p.TID == p.PID:
		name = th.name
	case !named:
		name = th.name
		if leader, ok := w.leaders[p.PID]; ok {
			name = escape.String(leader)
		}
	}
	if !named || name != old {
		w.procs[p.PID] = name
		w.write(event{Name: "process_name", Ph: "M", TS: w.ts(sc.Time), PID: p.PID, TID: p.PID, Args: nameArgs{name}})
	}
	return th
}

// slice writes one call: ph "X" from begin to end, or "B" at begin.
func (w *Writer) slice(ph string, p api.Process, begin, end time.Time, name, call string, args []api.Arg, ret string, seq uint64) {
	texts := make([]string, len(args))
	for i, a := range args {
		texts[i] = api.Safe(a.Text)
	}
	ev := event{Name: name, Ph: ph, TS: w.ts(begin), PID: p.PID, TID: p.TID,
		Args: callArgs{Call: call, Args: texts, Ret: api.Safe(ret), Seq: seq}}
	if ph == "X" {
		ev.Dur = micros(max(end.Sub(begin), 0)) // a host clock stepped back: no negative span
	}
	w.write(ev)
}

// callName names a call as strace -c does: a 32-bit call is another call.
func callName(sc *api.Syscall) string {
	if sc.ABI != api.X8664 {
		return sc.ABI.String() + ":" + api.Safe(sc.Name)
	}
	return api.Safe(sc.Name)
}

func (w *Writer) write(ev event) {
	if w.err != nil {
		return
	}
	if w.events > 0 {
		w.bw.WriteByte(',')
	}
	w.events++
	if err := w.enc.Encode(ev); err != nil {
		w.err = fmt.Errorf("writing the trace: %w", err)
	}
}

func (w *Writer) ts(t time.Time) json.Number { return micros(t.Sub(w.start)) }

// micros is d in microseconds, exactly: whole nanoseconds as decimals.
func micros(d time.Duration) json.Number {
	return json.Number(strconv.FormatFloat(float64(d)/1e3, 'f', -1, 64))
}
