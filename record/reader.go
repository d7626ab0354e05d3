package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
)

// BlockInfo is one block as the index lists it.
type BlockInfo struct {
	Offset              int64
	Events              int
	FirstSeq, LastSeq   uint64
	FirstTime, LastTime time.Time
}

// Reader reads a recording's blocks in any order, through its index. It
// is not safe for concurrent use.
type Reader struct {
	Meta   Meta
	Blocks []BlockInfo
	// Damage is nil for a recording that was closed properly; else it
	// wraps ErrTruncated and says where the readable part ends: the
	// blocks before that open.
	Damage error

	r       io.ReaderAt
	size    int64
	zstd    *zstd.Decoder
	raw     []byte
	decoded int // blocks decoded, for tests of seeking
}

// File is a Reader on an open file; Close closes it.
type File struct {
	*Reader
	f *os.File
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

// Open opens the recording at path.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil {
		var r *Reader
		if r, err = NewReader(f, st.Size()); err == nil {
			return &File{r, f}, nil
		}
	}
	f.Close()
	return nil, fmt.Errorf("%s: %w", path, err)
}

// NewReader reads the header and the index of the recording of size bytes
// in r, or finds the blocks by scanning when the index is missing or bad.
func NewReader(r io.ReaderAt, size int64) (*Reader, error) {
	rd := &Reader{r: r, size: size}
	start, err := rd.readHeader()
	if err != nil {
		return nil, err
	}
	if !rd.readIndex(start) {
		rd.scan(start)
	}
	if rd.zstd, err = decompressor(); err != nil {
		return nil, err
	}
	return rd, nil
}

// decompressor is the one zstd decoder of every reader: its DecodeAll is
// safe for concurrent use, and its tables are costly to set up.
var decompressor = sync.OnceValues(func() (*zstd.Decoder, error) {
	return zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxPayload))
})

func (r *Reader) readAt(off int64, n int) ([]byte, error) {
	if off < 0 || n < 0 || off+int64(n) > r.size {
		return nil, io.ErrUnexpectedEOF
	}
	b := make([]byte, n)
	if _, err := r.r.ReadAt(b, off); err != nil && !(errors.Is(err, io.EOF) && off+int64(n) == r.size) {
		return nil, err
	}
	return b, nil
}

// readHeader reads the header into Meta and returns where the blocks start.
func (r *Reader) readHeader() (int64, error) {
	h, err := r.readAt(0, fileHeadLen)
	if err != nil || string(h[:8]) != magic {
		return 0, ErrNotRecording
	}
	if v := binary.LittleEndian.Uint16(h[8:]); v != Version && v != 1 {
		return 0, fmt.Errorf("%w %d (this nitro reads versions 1 to %d)", ErrVersion, v, Version)
	}
	n := binary.LittleEndian.Uint32(h[12:])
	if n > maxMeta {
		return 0, fmt.Errorf("%w: a header of %d bytes", ErrCorrupt, n)
	}
	body, err := r.readAt(fileHeadLen, int(n)+4)
	if err != nil {
		return 0, fmt.Errorf("%w: the file ends in its header", ErrTruncated)
	}
	if crc32.Checksum(body[:n], castagnoli) != binary.LittleEndian.Uint32(body[n:]) {
		return 0, fmt.Errorf("%w: header checksum mismatch", ErrCorrupt)
	}
	if r.Meta, err = parseMeta(body[:n]); err != nil {
		return 0, fmt.Errorf("header: %w", err)
	}
	return fileHeadLen + int64(n) + 4, nil
}

// readIndex reads the index the trailer points to; false when there is
// none that checks out.
func (r *Reader) readIndex(start int64) bool {
	t, err := r.readAt(r.size-trailerLen, trailerLen)
	if err != nil || string(t[8:]) != endMagic {
		return false
	}
	at := int64(binary.LittleEndian.Uint64(t))
	if at < start || at > r.size-trailerLen-headLen {
		return false
	}
	head, err := r.readAt(at, headLen)
	if err != nil {
		return false
	}
	f, err := parseFrame(head)
	if err != nil || f.kind != kindIndex || int64(f.payload) != r.size-trailerLen-headLen-at || f.payload%indexEntry != 0 {
		return false
	}
	p, err := r.readAt(at+headLen, int(f.payload))
	if err != nil || f.check(head, p) != nil {
		return false
	}
	le := binary.LittleEndian
	blocks := make([]BlockInfo, 0, len(p)/indexEntry)
	next := start
	for ; len(p) > 0; p = p[indexEntry:] {
		b := BlockInfo{
			Offset: int64(le.Uint64(p)), Events: int(le.Uint32(p[8:])),
			FirstSeq: le.Uint64(p[12:]), LastSeq: le.Uint64(p[20:]),
			FirstTime: time.Unix(0, int64(le.Uint64(p[28:]))), LastTime: time.Unix(0, int64(le.Uint64(p[36:]))),
		}
		if b.Offset < next || b.Offset > at-headLen {
			return false
		}
		next = b.Offset + headLen
		blocks = append(blocks, b)
	}
	r.Blocks = blocks
	return true
}

// scan finds the blocks one after the other from start, up to the index or
// the first frame that is cut or damaged.
func (r *Reader) scan(start int64) {
	off := start
	for {
		if off == r.size {
			r.Damage = fmt.Errorf("%w: no index (the recorder did not finish); %d blocks found", ErrTruncated, len(r.Blocks))
			return
		}
		head, err := r.readAt(off, headLen)
		var f frame
		if err == nil {
			f, err = parseFrame(head)
		}
		var p []byte
		if err == nil {
			p, err = r.readAt(off+headLen, int(f.payload))
		}
		if err == nil {
			err = f.check(head, p)
		}
		if err == nil && f.kind == kindIndex {
			err = errors.New("no trailer")
		}
		if err != nil {
			r.Damage = fmt.Errorf("%w at byte %d of %d (%v); %d blocks before it open", ErrTruncated, off, r.size, err, len(r.Blocks))
			return
		}
		r.Blocks = append(r.Blocks, BlockInfo{
			Offset: off, Events: int(f.events), FirstSeq: f.firstSeq, LastSeq: f.lastSeq,
			FirstTime: time.Unix(0, f.firstTime), LastTime: time.Unix(0, f.lastTime),
		})
		off += headLen + int64(f.payload)
	}
}

// Block decodes block i.
func (r *Reader) Block(i int) (*Block, error) {
	if i < 0 || i >= len(r.Blocks) {
		return nil, fmt.Errorf("no block %d in a recording of %d", i, len(r.Blocks))
	}
	bi := &r.Blocks[i]
	head, err := r.readAt(bi.Offset, headLen)
	if err != nil {
		return nil, fmt.Errorf("%w: block %d is cut", ErrTruncated, i)
	}
	f, err := parseFrame(head)
	if err != nil || f.kind != kindBlock || int(f.events) != bi.Events || f.firstSeq != bi.FirstSeq || f.lastSeq != bi.LastSeq {
		return nil, fmt.Errorf("%w: block %d is not where the index says", ErrCorrupt, i)
	}
	p, err := r.readAt(bi.Offset+headLen, int(f.payload))
	if err != nil {
		return nil, fmt.Errorf("%w: block %d is cut", ErrTruncated, i)
	}
	if err := f.check(head, p); err != nil {
		return nil, fmt.Errorf("block %d: %w", i, err)
	}
	r.raw, err = r.zstd.DecodeAll(p, r.raw[:0])
	if err != nil || len(r.raw) != int(f.raw) {
		return nil, fmt.Errorf("%w: block %d does not decompress to its size", ErrCorrupt, i)
	}
	r.decoded++
	blk, err := decodeBlock(r.raw, &f) // its strings are copies: r.raw is reused
	if err != nil {
		return nil, fmt.Errorf("block %d: %w", i, err)
	}
	return blk, nil
}

// FindSeq returns the block holding the event of sequence number seq, or
// the first after it; len(Blocks) when there is none.
func (r *Reader) FindSeq(seq uint64) int {
	return sort.Search(len(r.Blocks), func(i int) bool { return r.Blocks[i].LastSeq >= seq })
}
