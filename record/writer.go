package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"

	"nitro/api"
)

// Blocks end at whichever comes first: so many events, or so many raw
// bytes. Larger blocks compress better; smaller ones make a jump decode
// less and a crash lose less.
const (
	blockEvents = 4096
	blockRaw    = 1 << 20
)

// Writer streams a recording to an io.Writer, one write per block, so that
// whatever kills the recorder leaves whole blocks. It is not safe for
// concurrent use.
type Writer struct {
	w      io.Writer
	off    uint64 // bytes written so far
	enc    *encoder
	zstd   *zstd.Encoder
	cur    frame // the block being built
	snap   *Snapshot
	index  []byte
	buf    []byte
	err    error // the first write error: the file is broken from there
	closed bool
}

// NewWriter writes m as the header and returns a writer of blocks after it.
func NewWriter(w io.Writer, m Meta) (*Writer, error) {
	z, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedBetterCompression))
	if err != nil {
		return nil, err
	}
	hdr := m.header()
	if len(hdr)-fileHeadLen-4 > maxMeta {
		return nil, fmt.Errorf("recording header of %d bytes is too long", len(hdr))
	}
	if _, err := w.Write(hdr); err != nil {
		return nil, fmt.Errorf("writing the recording's header: %w", err)
	}
	return &Writer{w: w, off: uint64(len(hdr)), enc: newEncoder(), zstd: z}, nil
}

// Event adds one system call to the recording.
func (w *Writer) Event(sc *api.Syscall) error {
	if w.err != nil {
		return w.err
	}
	if w.cur.events == 0 {
		w.enc.reset(sc.Seq, sc.Time.UnixNano())
		w.cur = frame{kind: kindBlock, firstSeq: sc.Seq, firstTime: sc.Time.UnixNano()}
		if w.snap != nil {
			w.enc.snapshot(w.snap) // the block's process table, for a reader that jumps here
		}
	}
	if len(sc.Args) > maxArgs {
		return fmt.Errorf("call %d has %d arguments, more than a recording keeps (%d)", sc.Seq, len(sc.Args), maxArgs)
	}
	w.enc.event(sc)
	w.cur.events++
	w.cur.lastSeq, w.cur.lastTime = sc.Seq, sc.Time.UnixNano()
	if w.cur.events >= blockEvents || len(w.enc.b) >= blockRaw {
		return w.Flush()
	}
	return nil
}

// Processes adds a snapshot of the guest's process table; the recording
// keeps it with the events that follow it.
func (w *Writer) Processes(s Snapshot) error {
	if w.err != nil {
		return w.err
	}
	if len(s.Procs) > maxSnapshots/4 { // a few per block must fit a reader's bound
		return fmt.Errorf("a process table of %d tasks is too large to record", len(s.Procs))
	}
	s.Procs = append([]api.Process(nil), s.Procs...)
	w.snap = &s
	if w.cur.events > 0 {
		w.enc.snapshot(&s)
	}
	return nil
}

// Flush ends the current block and writes it, so that it survives the
// recorder; a recorder calls it every second or so.
func (w *Writer) Flush() error {
	if w.err != nil || w.cur.events == 0 {
		return w.err
	}
	w.cur.raw = uint32(len(w.enc.b))
	w.buf = w.zstd.EncodeAll(w.enc.b, w.buf[:0])
	w.cur.payload = uint32(len(w.buf))
	var e [indexEntry]byte
	le := binary.LittleEndian
	le.PutUint64(e[0:], w.off)
	le.PutUint32(e[8:], w.cur.events)
	le.PutUint64(e[12:], w.cur.firstSeq)
	le.PutUint64(e[20:], w.cur.lastSeq)
	le.PutUint64(e[28:], uint64(w.cur.firstTime))
	le.PutUint64(e[36:], uint64(w.cur.lastTime))
	w.index = append(w.index, e[:]...)
	w.write(w.cur.seal(w.buf))
	w.cur = frame{}
	return w.err
}

func (w *Writer) write(b []byte) {
	if _, err := w.w.Write(b); err != nil {
		w.err = fmt.Errorf("writing the recording: %w", err)
		return
	}
	w.off += uint64(len(b))
}

// Close writes the last block, the index and the trailer. It does not
// close the underlying writer.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if err := w.Flush(); err != nil {
		return err
	}
	at := w.off
	f := frame{kind: kindIndex, payload: uint32(len(w.index)), raw: uint32(len(w.index)), events: uint32(len(w.index) / indexEntry)}
	if len(w.index) > maxPayload {
		return errors.New("recording too long for an index: it opens by scanning")
	}
	b := binary.LittleEndian.AppendUint64(f.seal(w.index), at)
	w.write(append(b, endMagic...))
	return w.err
}
