package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"
)

// Version is the format version this package writes; it reads this one
// and version 1, whose calls do not say which arguments they write.
const Version = 2

const (
	magic       = "NITROREC"
	endMagic    = "NITROEND"
	kindBlock   = "NBLK"
	kindIndex   = "NIDX"
	headLen     = 52 // a frame's head
	trailerLen  = 16
	indexEntry  = 44
	fileHeadLen = 16 // magic, version, flags, body length

	// Bounds a reader holds a file to, so that hostile lengths and counts
	// cannot make it allocate without end (a block decodes to at most some
	// tens of MB). A writer stays well inside them.
	maxMeta      = 1 << 16
	maxPayload   = 16 << 20 // compressed or raw
	maxEvents    = 1 << 16  // per block
	maxArgs      = 16       // per call: Linux's take six
	argCountBits = 5        // an argument count's bits; above them, the written arguments (version 2)
	maxSnapshots = 1 << 20  // processes of all a block's snapshots
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Errors of reading, for errors.Is; the error that wraps one says where.
var (
	// ErrNotRecording: the file does not start with a recording's header.
	ErrNotRecording = errors.New("not a nitro recording")
	// ErrVersion: a recording of a format version this nitro cannot read.
	ErrVersion = errors.New("unsupported recording version")
	// ErrTruncated: the file ends before its index (the recorder did not
	// finish) or in a torn or damaged block; the blocks before open.
	ErrTruncated = errors.New("recording is truncated")
	// ErrCorrupt: a block, the header or the index fails its checks.
	ErrCorrupt = errors.New("recording is corrupt")
)

// Meta is what a recording says of itself in its header.
type Meta struct {
	Domain   string
	OS       string // the back end: "linux"
	Kernel   string // e.g. "Linux 6.1.0-28-amd64"
	Listener string // how the guest was stopped: "gdbstub" or "nitro"
	Start    time.Time
	// Syscalls are the only calls the guest stopped for (--syscalls); nil:
	// every call.
	Syscalls []string
	// Filter is the recorder's filter as a command line ("--pid 42"): it
	// kept only the calls that matched; "" for all of them.
	Filter string
}

func (m *Meta) appendBody(b []byte) []byte {
	b = appendString(b, m.Domain)
	b = appendString(b, m.OS)
	b = appendString(b, m.Kernel)
	b = appendString(b, m.Listener)
	b = binary.AppendVarint(b, m.Start.UnixNano())
	b = binary.AppendUvarint(b, uint64(len(m.Syscalls)))
	for _, s := range m.Syscalls {
		b = appendString(b, s)
	}
	return appendString(b, m.Filter)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// header is the file's header with its body and CRC.
func (m *Meta) header() []byte {
	body := m.appendBody(nil)
	b := append([]byte(magic), 0, 0, 0, 0, 0, 0, 0, 0)
	binary.LittleEndian.PutUint16(b[8:], Version)
	binary.LittleEndian.PutUint32(b[12:], uint32(len(body)))
	b = append(b, body...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(body, castagnoli))
}

func parseMeta(body []byte) (Meta, error) {
	d := decoder{b: body}
	var m Meta
	m.Domain = d.string()
	m.OS = d.string()
	m.Kernel = d.string()
	m.Listener = d.string()
	m.Start = time.Unix(0, d.varint())
	n := d.uvarint()
	if n > uint64(d.left()) {
		d.fail("syscall count")
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		m.Syscalls = append(m.Syscalls, d.string())
	}
	m.Filter = d.string()
	return m, d.err
}

// frame is a frame's head.
type frame struct {
	kind                 string
	payload, raw, events uint32
	firstSeq, lastSeq    uint64
	firstTime, lastTime  int64
	crc                  uint32
}

func (f *frame) head() []byte {
	b := make([]byte, headLen)
	copy(b, f.kind)
	le := binary.LittleEndian
	le.PutUint32(b[4:], f.payload)
	le.PutUint32(b[8:], f.raw)
	le.PutUint32(b[12:], f.events)
	le.PutUint64(b[16:], f.firstSeq)
	le.PutUint64(b[24:], f.lastSeq)
	le.PutUint64(b[32:], uint64(f.firstTime))
	le.PutUint64(b[40:], uint64(f.lastTime))
	return b
}

// seal sets the CRC of head and payload and returns the frame's bytes.
func (f *frame) seal(payload []byte) []byte {
	b := f.head()
	crc := crc32.Update(crc32.Checksum(b[:headLen-4], castagnoli), castagnoli, payload)
	binary.LittleEndian.PutUint32(b[headLen-4:], crc)
	return append(b, payload...)
}

func parseFrame(b []byte) (frame, error) {
	le := binary.LittleEndian
	f := frame{
		kind: string(b[:4]), payload: le.Uint32(b[4:]), raw: le.Uint32(b[8:]), events: le.Uint32(b[12:]),
		firstSeq: le.Uint64(b[16:]), lastSeq: le.Uint64(b[24:]),
		firstTime: int64(le.Uint64(b[32:])), lastTime: int64(le.Uint64(b[40:])), crc: le.Uint32(b[48:]),
	}
	switch {
	case f.kind != kindBlock && f.kind != kindIndex:
		return f, fmt.Errorf("%w: no frame here", ErrCorrupt)
	case f.payload > maxPayload || f.raw > maxPayload || f.kind == kindBlock && f.events > maxEvents:
		return f, fmt.Errorf("%w: a frame of %d bytes (%d raw, %d events) is beyond any recorder's", ErrCorrupt, f.payload, f.raw, f.events)
	}
	return f, nil
}

// check verifies the frame's CRC over head and payload.
func (f *frame) check(head, payload []byte) error {
	crc := crc32.Update(crc32.Checksum(head[:headLen-4], castagnoli), castagnoli, payload)
	if crc != f.crc {
		return fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	return nil
}
