package remote

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"nitro/api"
)

// Version is the protocol version this nitro speaks. Version 2: attach
// and inspect carry the kernel files given on the near side.
const Version = 2

// MaxLine is the longest line either side accepts: a batch of a few
// thousand calls fits many times over, a runaway peer does not make the
// other allocate without end.
const MaxLine = 64 << 20

// Errors of the protocol, for errors.Is; the error that wraps one says more.
var (
	// ErrProtocol: the peer sent something that is not the protocol.
	ErrProtocol = errors.New("remote nitro protocol error")
	// ErrVersion: the two nitros speak different protocol versions.
	ErrVersion = errors.New("remote nitro protocol versions differ")
	// ErrLost: the connection to the far nitro ended while in use; it is
	// api.ErrLost, which the faces know.
	ErrLost = api.ErrLost
	// ErrNothingHeld: a request for a session or guest the agent does not
	// hold (attach or inspect first).
	ErrNothingHeld = errors.New("the agent holds no such session or guest")
	// ErrFileTooBig: a kernel file larger than MaxFile, which a request
	// does not carry.
	ErrFileTooBig = errors.New("too big to send to the remote nitro")
)

type hello struct {
	Version int `json:"nitro_agent"`
}

// request is a line from the client to the agent.
type request struct {
	ID        uint64          `json:"id"`
	Op        string          `json:"op"`
	Name      string          `json:"name,omitempty"`
	Action    api.Action      `json:"action,omitempty"`
	Syscalls  []string        `json:"syscalls,omitempty"`
	PID       int             `json:"pid,omitempty"`
	Comms     []string        `json:"comms,omitempty"`
	Limit     int             `json:"limit,omitempty"`
	Wait      time.Duration   `json:"wait,omitempty"`
	Break     *api.Breakpoint `json:"break,omitempty"`
	Injection *api.Injection  `json:"injection,omitempty"`
	Edit      *api.Edit       `json:"edit,omitempty"`
	Kernel    *KernelFiles    `json:"kernel,omitempty"`
}

// message is a line from the agent: a reply (ID set) or a session's news.
type message struct {
	ID     uint64          `json:"id,omitempty"`
	Err    *wireError      `json:"error,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Calls  []event         `json:"calls,omitempty"`
	Held   *held           `json:"held,omitempty"`
	Done   uint64          `json:"done,omitempty"`
	Stats  *api.Stats      `json:"stats,omitempty"`
	End    *string         `json:"end,omitempty"`
}

// wireError is an error with the api sentinel it wraps, by name.
type wireError struct {
	Msg  string `json:"msg"`
	Kind string `json:"kind,omitempty"`
}

// kinds are the sentinel errors a reply can carry, so that a face's
// errors.Is works on a remote session as on a local one.
var kinds = map[string]error{
	"not_running": api.ErrNotRunning, "not_held": api.ErrNotHeld, "attached": api.ErrAttached,
	"not_supported": api.ErrNotSupported, "not_armed": api.ErrNotArmed, "read_only": api.ErrReadOnly,
	"bad_injection": api.ErrBadInjection, "read_only_args": api.ErrReadOnlyArgs, "not_at_entry": api.ErrNotAtEntry,
	"not_at_exit": api.ErrNotAtExit, "not_pointer": api.ErrNotPointer, "not_string": api.ErrNotString,
	"is_string": api.ErrIsString, "no_length": api.ErrNoLength, "too_long": api.ErrTooLong, "no_room": api.ErrNoRoom,
	"nothing_held": ErrNothingHeld, "protocol": ErrProtocol, "version": ErrVersion, "file_too_big": ErrFileTooBig,
}

func toWire(err error) *wireError {
	w := &wireError{Msg: err.Error()}
	for k, sentinel := range kinds {
		if errors.Is(err, sentinel) {
			w.Kind = k
			break
		}
	}
	return w
}

// remoteError is an error the agent replied with.
type remoteError struct {
	msg  string
	kind error
}

func (e *remoteError) Error() string { return "remote nitro: " + e.msg }
func (e *remoteError) Unwrap() error { return e.kind }

func (w *wireError) err() error { return &remoteError{msg: w.Msg, kind: kinds[w.Kind]} }

// event is an api.Syscall under the names of trace's JSON lines.
type event struct {
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
	VCPU      int       `json:"vcpu"`
	Direction string    `json:"direction"`
	ABI       string    `json:"abi"`
	Nr        uint64    `json:"nr"`
	Name      string    `json:"name"`
	PID       int       `json:"pid"`
	TID       int       `json:"tid"`
	PPID      int       `json:"ppid"`
	Comm      string    `json:"comm"`
	UID       uint32    `json:"uid,omitempty"`
	Task      uint64    `json:"task,omitempty"`
	Image     string    `json:"image,omitempty"`
	NotThread bool      `json:"not_thread,omitempty"`
	Args      []arg     `json:"args"`
	Ret       int64     `json:"ret,omitempty"`
	Errno     string    `json:"errno,omitempty"`
	Matched   bool      `json:"matched,omitempty"`
	RetText   string    `json:"ret_text,omitempty"`
	Injected  bool      `json:"injected,omitempty"`
}

type arg struct {
	Raw  hexRaw `json:"raw"`
	Text string `json:"text"`
	Out  bool   `json:"out,omitempty"`
}

// hexRaw is a register as trace writes it: "0x..." (a JSON number would
// lose bits past 2^53 in many readers).
type hexRaw uint64

func (h hexRaw) MarshalJSON() ([]byte, error) {
	b := append(make([]byte, 0, 20), `"0x`...)
	b = strconv.AppendUint(b, uint64(h), 16)
	return append(b, '"'), nil
}

func (h *hexRaw) UnmarshalJSON(b []byte) error {
	s, ok := strings.CutPrefix(strings.Trim(string(b), `"`), "0x")
	if !ok {
		return fmt.Errorf("raw %s is not 0x-hex", b)
	}
	v, err := strconv.ParseUint(s, 16, 64)
	*h = hexRaw(v)
	return err
}

func fromSyscall(sc *api.Syscall) event {
	p := &sc.Process
	e := event{
		Seq: sc.Seq, Time: sc.Time, VCPU: sc.VCPU, Direction: sc.Direction.String(), ABI: sc.ABI.String(),
		Nr: sc.Nr, Name: sc.Name, PID: p.PID, TID: p.TID, PPID: p.PPID, Comm: p.Comm, UID: p.UID, Task: p.Task,
		Image: p.Image, NotThread: p.NotThread, Args: make([]arg, len(sc.Args)),
		Ret: sc.Ret, Errno: sc.Errno, Matched: sc.Matched, RetText: sc.RetText, Injected: sc.Injected,
	}
	for i, a := range sc.Args {
		e.Args[i] = arg{Raw: hexRaw(a.Raw), Text: a.Text, Out: a.Out}
	}
	return e
}

func (e *event) syscall() (api.Syscall, error) {
	sc := api.Syscall{
		Seq: e.Seq, Time: e.Time, VCPU: e.VCPU, Nr: e.Nr, Name: e.Name,
		Process: api.Process{PID: e.PID, TID: e.TID, PPID: e.PPID, Comm: e.Comm, UID: e.UID, Task: e.Task, Image: e.Image, NotThread: e.NotThread},
		Args:    make([]api.Arg, len(e.Args)),
		Ret:     e.Ret, Errno: e.Errno, Matched: e.Matched, RetText: e.RetText, Injected: e.Injected,
	}
	switch e.Direction {
	case "enter":
		sc.Direction = api.Enter
	case "exit":
		sc.Direction = api.Exit
	default:
		return sc, fmt.Errorf("%w: call %d has direction %q", ErrProtocol, e.Seq, e.Direction)
	}
	switch e.ABI {
	case "x86_64":
		sc.ABI = api.X8664
	case "i386":
		sc.ABI = api.I386
	default:
		return sc, fmt.Errorf("%w: call %d has abi %q", ErrProtocol, e.Seq, e.ABI)
	}
	for i, a := range e.Args {
		sc.Args[i] = api.Arg{Raw: uint64(a.Raw), Text: a.Text, Out: a.Out}
	}
	return sc, nil
}

// held is an api.Held on the wire; Done becomes a "done" line.
type held struct {
	Call event          `json:"call"`
	Regs []api.Register `json:"regs,omitempty"`
	Uses []api.ArgUse   `json:"uses,omitempty"`
	By   string         `json:"by,omitempty"`
}

// lines reads the protocol's lines from r.
type lines struct{ r *bufio.Reader }

func newLines(r io.Reader) *lines { return &lines{bufio.NewReaderSize(r, 64<<10)} }

// next returns the next line without its newline; io.EOF at a clean end.
func (l *lines) next() ([]byte, error) {
	var line []byte
	for {
		part, err := l.r.ReadSlice('\n')
		if len(line)+len(part) > MaxLine {
			return nil, fmt.Errorf("%w: a line longer than %d bytes", ErrProtocol, MaxLine)
		}
		switch {
		case err == nil && line == nil:
			return part[:len(part)-1], nil
		case err == nil:
			return append(line, part[:len(part)-1]...), nil
		case errors.Is(err, bufio.ErrBufferFull):
			line = append(line, part...)
		case errors.Is(err, io.EOF) && len(line)+len(part) > 0:
			return nil, fmt.Errorf("%w: the stream ended inside a line (%d bytes without a newline)", ErrProtocol, len(line)+len(part))
		default:
			return nil, err
		}
	}
}

// decode reads the next line into v.
func (l *lines) decode(v any) error {
	b, err := l.next()
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: a line that is not a message: %v", ErrProtocol, err)
	}
	return nil
}

// writer writes whole lines, one message at a time.
type writer struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func newWriter(w io.Writer) *writer { return &writer{w: bufio.NewWriterSize(w, 64<<10)} }

func (w *writer) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.w.Write(b)
	w.w.WriteByte('\n')
	return w.w.Flush()
}

// write writes a line made already, newline included.
func (w *writer) write(line []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.w.Write(line)
	return w.w.Flush()
}

// checkVersion refuses a peer of another version, naming both.
func checkVersion(peer hello, who string) error {
	if peer.Version != Version {
		return fmt.Errorf("%w: the %s speaks version %d, this nitro speaks version %d: install the same nitro on both hosts",
			ErrVersion, who, peer.Version, Version)
	}
	return nil
}
