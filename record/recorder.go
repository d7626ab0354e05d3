package record

import (
	"context"
	"io"
	"strings"
	"time"

	"nitro/api"
)

// SnapshotEvery is how often a Recorder takes the guest's process table,
// and ends a block so that a killed recorder loses at most that much.
const SnapshotEvery = time.Second

// FileName is a recording's default name: DOMAIN-YYYYMMDD-HHMMSS.nitro.
func FileName(domain string, t time.Time) string {
	// The name is libvirt's, which may hold a slash.
	return strings.ReplaceAll(domain, "/", "_") + t.Format("-20060102-150405.nitro")
}

// Recorder writes an attached session's calls to a recording, with the
// session's process table at the start and every SnapshotEvery: what
// nitro record and the TUI's record key share. It is not safe for
// concurrent use.
type Recorder struct {
	ctx  context.Context
	sess api.Session
	w    *Writer
	warn func(error)
	last time.Time // of the last snapshot and block
	// Calls counts the calls written.
	Calls int
}

// NewRecorder writes the header of a recording of sess to out, and its
// process table. m gives the header what the session does not say (the
// calls stopped for, the filter); the session's Info and the time now
// fill in the rest. A process table that cannot be read is skipped, the
// calls matter more: warn, unless nil, hears of the first such failure.
func NewRecorder(ctx context.Context, out io.Writer, sess api.Session, m Meta, warn func(error)) (*Recorder, error) {
	in := sess.Info()
	m.Domain, m.OS, m.Kernel, m.Listener, m.Start = in.Domain, in.OS, in.Kernel, in.Listener, time.Now()
	w, err := NewWriter(out, m)
	if err != nil {
		return nil, err
	}
	r := &Recorder{ctx: ctx, sess: sess, w: w, warn: warn}
	return r, r.snapshot()
}

func (r *Recorder) snapshot() error {
	r.last = time.Now()
	procs, err := r.sess.Processes(r.ctx)
	if err != nil {
		if r.warn != nil {
			r.warn(err)
			r.warn = nil
		}
		return nil
	}
	return r.w.Processes(Snapshot{Time: r.last, Procs: procs})
}

// Event writes one call.
func (r *Recorder) Event(sc *api.Syscall) error {
	r.Calls++
	return r.w.Event(sc)
}

// Flush is called after each batch: once SnapshotEvery has passed, it ends
// the block, so that it survives the recorder, and takes the process table.
func (r *Recorder) Flush() error {
	if time.Since(r.last) < SnapshotEvery {
		return nil
	}
	if err := r.w.Flush(); err != nil {
		return err
	}
	return r.snapshot()
}

// Close writes the last block and the index; it does not close out.
func (r *Recorder) Close() error { return r.w.Close() }
