package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"nitro/api"
	"nitro/record"
	"nitro/ui/views"
)

// Messages of the record key.
type (
	// recStartedMsg says a recording began writing path, or could not.
	recStartedMsg struct {
		sess api.Session
		path string
		err  error
	}
	// recordedMsg says a recording ended, whatever ended it, its file
	// closed.
	recordedMsg struct {
		sess  api.Session
		path  string
		calls int
		err   error
	}
)

// recorder records an attached live session to files, one at a time, with
// package record's Recorder, as nitro record does. A session has no
// unsubscribe, so the lossless subscription made at the first recording
// lasts: one goroutine reads it until the session ends, writing what comes
// while a recording is on.
type recorder struct {
	sess  api.Session
	ch    <-chan []api.Syscall
	reqs  chan recReq
	ended chan recordedMsg // holds a recording's end until the UI takes it
	quit  chan struct{}    // closed by close: end any recording now
	done  chan struct{}    // closed when no file is open any more, for good
	once  sync.Once
}

// recReq starts a recording of path, answering on started, or stops the
// one on (path "").
type recReq struct {
	path    string
	started chan error
}

// newRecorder subscribes to s and starts the goroutine that reads it; ctx
// is for reading the guest's process table.
func newRecorder(ctx context.Context, s api.Session) *recorder {
	r := &recorder{
		sess: s, ch: s.Subscribe(1<<16, api.ReaderWait).C(),
		reqs: make(chan recReq), ended: make(chan recordedMsg, 1),
		quit: make(chan struct{}), done: make(chan struct{}),
	}
	go r.loop(ctx)
	return r
}

// file is one recording being written.
type file struct {
	path string
	f    *os.File
	rec  *record.Recorder
}

func (r *recorder) loop(ctx context.Context) {
	r.serve(ctx)
	close(r.done)
	for range r.ch { // lossless: the session would wait for this reader
	}
}

// serve writes the recordings asked for until the subscription ends or
// close says so; it returns with no file open.
func (r *recorder) serve(ctx context.Context) {
	var cur *file
	end := func(err error) {
		if cur == nil {
			return
		}
		err = errors.Join(err, cur.rec.Close(), cur.f.Close())
		select { // the UI takes one end before it starts another recording
		case r.ended <- recordedMsg{sess: r.sess, path: cur.path, calls: cur.rec.Calls, err: err}:
		default:
		}
		cur = nil
	}
	write := func(b []api.Syscall) {
		if cur == nil {
			return
		}
		for i := range b {
			if err := cur.rec.Event(&b[i]); err != nil {
				end(err)
				return
			}
		}
		if err := cur.rec.Flush(); err != nil {
			end(err)
		}
	}
	// caughtUp writes what has come already: a stop or a quit keeps the
	// calls delivered before it; false when the subscription is over.
	caughtUp := func() bool {
		for {
			select {
			case b, ok := <-r.ch:
				if !ok {
					return false
				}
				write(b)
			default:
				return true
			}
		}
	}
	for {
		select {
		case b, ok := <-r.ch:
			if !ok {
				end(nil)
				return
			}
			write(b)
		case q := <-r.reqs:
			if q.path == "" {
				more := caughtUp()
				end(nil)
				if !more {
					return
				}
				continue
			}
			var err error
			cur, err = begin(ctx, r.sess, q.path)
			q.started <- err
		case <-r.quit:
			caughtUp()
			end(nil)
			return
		}
	}
}

// begin creates path, which must not exist, and writes a recording's
// header and first process table to it.
func begin(ctx context.Context, s api.Session, path string) (*file, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	rec, err := record.NewRecorder(ctx, f, s, record.Meta{}, nil)
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return &file{path: path, f: f, rec: rec}, nil
}

// errSessionOver is a recording asked of a session that has ended.
var errSessionOver = errors.New("the session has ended")

// start asks for a recording of path.
func (r *recorder) start(path string) tea.Cmd {
	return func() tea.Msg {
		q := recReq{path: path, started: make(chan error, 1)}
		err := errSessionOver
		select {
		case r.reqs <- q:
			err = <-q.started
		case <-r.done:
		}
		return recStartedMsg{sess: r.sess, path: path, err: err}
	}
}

// stop ends the recording; its end comes through waitEnd.
func (r *recorder) stop() tea.Cmd {
	return func() tea.Msg {
		select {
		case r.reqs <- recReq{}:
		case <-r.done:
		}
		return nil
	}
}

// waitEnd delivers the end of the recording on.
func (r *recorder) waitEnd(ctx context.Context) tea.Cmd {
	return func() tea.Msg {
		select {
		case msg := <-r.ended:
			return msg
		case <-ctx.Done():
			return nil
		}
	}
}

// close ends any recording, its file closed, before it returns: the
// program is quitting.
func (r *recorder) close() {
	r.once.Do(func() { close(r.quit) })
	<-r.done
}

// toggleRecord starts recording the live session to a new file in the
// current directory, or stops the recording on.
func (a *attached) toggleRecord(m *Model) tea.Cmd {
	switch {
	case a.pb != nil:
		m.setNote("this is a recording already", true)
		return nil
	case a.recBusy:
		return nil
	case a.recPath != "":
		a.recBusy = true
		return a.rec.stop()
	}
	if a.rec == nil {
		a.rec = newRecorder(a.ctx, a.sess)
		m.recorders = append(m.recorders, a.rec)
	}
	a.recBusy = true
	return a.rec.start(record.FileName(a.info.Domain, time.Now()))
}

func (a *attached) recStarted(m *Model, msg recStartedMsg) tea.Cmd {
	if msg.sess != a.sess {
		return nil
	}
	a.recBusy = false
	if msg.err != nil {
		m.setNote("recording: "+msg.err.Error(), true)
		return nil
	}
	a.recPath = msg.path
	note := "recording to " + views.Plain(msg.path)
	if k := views.KeyName(a.c.Keys.Record); k != "" {
		note += " (" + k + " stops)"
	}
	m.setNote(note, false)
	return a.rec.waitEnd(a.ctx)
}

func (a *attached) recorded(m *Model, msg recordedMsg) tea.Cmd {
	if msg.sess != a.sess {
		return nil
	}
	a.recPath, a.recBusy = "", false
	if msg.err != nil {
		m.setNote(fmt.Sprintf("recording %s failed after %d calls: %v", views.Plain(msg.path), msg.calls, msg.err), true)
		return nil
	}
	m.setNote(fmt.Sprintf("recorded %d calls in %s", msg.calls, views.Plain(msg.path)), false)
	return nil
}
