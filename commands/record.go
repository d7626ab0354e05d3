package commands

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"nitro/api"
	"nitro/record"
)

// snapshotEvery is how often a recording takes the guest's process table,
// and ends a block so that a killed recorder loses at most that much.
const snapshotEvery = time.Second

// Record writes a guest's system calls, with its process table over time,
// to a recording (package record) until ctx ends, --count or --duration
// says, or the session ends; trace's filters choose the calls.
func Record(ctx context.Context, h api.Hypervisor, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("record", flag.ContinueOnError)
	var sf streamFlags
	sf.register(fs, "record")
	out := fs.String("o", "", "write the recording to this file (default DOMAIN-YYYYMMDD-HHMMSS.nitro)")
	if err := fs.Parse(args); err != nil {
		return ErrUsage
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("record needs one DOMAIN (%w)", ErrUsage)
	}
	if err := sf.check(); err != nil {
		return err
	}
	domain := fs.Arg(0)
	path := *out
	if path == "" {
		// The name is libvirt's, which may hold a slash.
		path = strings.ReplaceAll(domain, "/", "_") + time.Now().Format("-20060102-150405.nitro")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	rs := &recordSink{f: f, flags: &sf, stderr: stderr}
	err = sf.follow(ctx, h, domain, rs)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if rs.w == nil { // never attached: no recording to keep
		os.Remove(path)
	}
	if err == nil {
		fmt.Fprintf(stderr, "nitro: recorded %d calls of %s in %s\n", rs.events, domain, path)
	}
	return err
}

// recordSink writes the calls kept to a recording, with a process table
// snapshot at the start and then every snapshotEvery.
type recordSink struct {
	f      *os.File
	flags  *streamFlags
	stderr io.Writer
	ctx    context.Context
	sess   api.Session
	w      *record.Writer
	last   time.Time // of the last snapshot and block
	events int
	warned bool
}

func (r *recordSink) attached(ctx context.Context, sess api.Session) error {
	in := sess.Info()
	w, err := record.NewWriter(r.f, record.Meta{
		Domain: in.Domain, OS: in.OS, Kernel: in.Kernel, Listener: in.Listener, Start: time.Now(),
		Syscalls: r.flags.names, Filter: r.flags.filter(),
	})
	if err != nil {
		return err
	}
	r.ctx, r.sess, r.w = ctx, sess, w
	return r.snapshot()
}

// snapshot records the process table. One that cannot be read is said
// once and skipped: the calls matter more than the table.
func (r *recordSink) snapshot() error {
	r.last = time.Now()
	procs, err := r.sess.Processes(r.ctx)
	if err != nil {
		if !r.warned {
			r.warned = true
			fmt.Fprintf(r.stderr, "nitro: the process table could not be read (recording goes on): %v\n", err)
		}
		return nil
	}
	return r.w.Processes(record.Snapshot{Time: r.last, Procs: procs})
}

func (r *recordSink) write(sc *api.Syscall) error {
	r.events++
	return r.w.Event(sc)
}

func (r *recordSink) flush() error {
	if time.Since(r.last) < snapshotEvery {
		return nil
	}
	if err := r.w.Flush(); err != nil {
		return err
	}
	return r.snapshot()
}

func (r *recordSink) end() error { return r.w.Close() }
