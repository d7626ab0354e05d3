package bzimage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/ulikunitz/xz/lzma"
)

// The kernel's xz payload is one stream with one block whose filter chain is
// an optional BCJ filter followed by LZMA2 (scripts/xz_wrap.sh). The xz
// package rejects BCJ chains, so we read the container here, let the lzma
// package decode the LZMA2 data and undo the x86 BCJ filter ourselves. The
// block's check and the stream index are not verified: the decompressed
// size the bzImage announces is.

const (
	xzStreamHeaderLen = 12
	filterX86         = 0x04
	filterLZMA2       = 0x21
	maxDictCap        = maxWindow
)

var errXZHeader = errors.New("malformed xz header")

// newXZReader returns the LZMA2 decoder of the payload's single block and
// whether the block's data must then go through the x86 BCJ decoder.
func newXZReader(p []byte) (io.Reader, bool, error) {
	if len(p) < xzStreamHeaderLen+1 {
		return nil, false, errXZHeader
	}
	blk := p[xzStreamHeaderLen:]
	hdrLen := (int(blk[0]) + 1) * 4
	if blk[0] == 0 || hdrLen > len(blk) {
		return nil, false, fmt.Errorf("%w: block header size %d", errXZHeader, hdrLen)
	}
	hdr := blk[:hdrLen]
	if crc32.ChecksumIEEE(hdr[:hdrLen-4]) != binary.LittleEndian.Uint32(hdr[hdrLen-4:]) {
		return nil, false, fmt.Errorf("%w: block header checksum", errXZHeader)
	}
	x86, dictCap, err := parseFilters(hdr[:hdrLen-4])
	if err != nil {
		return nil, false, err
	}
	r, err := lzma.Reader2Config{DictCap: dictCap}.NewReader2(bytes.NewReader(blk[hdrLen:]))
	if err != nil {
		return nil, false, err
	}
	return r, x86, nil
}

// parseFilters reads the block flags and filter flags of an xz block header
// (without its CRC) and accepts [x86 BCJ,] LZMA2.
func parseFilters(h []byte) (x86 bool, dictCap int, err error) {
	flags := h[1]
	if flags&0x3c != 0 {
		return false, 0, fmt.Errorf("%w: reserved block flags %#x", errXZHeader, flags)
	}
	rest := h[2:]
	// Compressed and uncompressed sizes, when present, are not needed.
	for _, present := range []bool{flags&0x40 != 0, flags&0x80 != 0} {
		if present {
			if _, rest, err = uvarint(rest); err != nil {
				return false, 0, err
			}
		}
	}
	nFilters := int(flags&3) + 1
	for i := range nFilters {
		var id, propLen uint64
		if id, rest, err = uvarint(rest); err != nil {
			return false, 0, err
		}
		if propLen, rest, err = uvarint(rest); err != nil {
			return false, 0, err
		}
		if propLen > uint64(len(rest)) {
			return false, 0, fmt.Errorf("%w: filter properties overrun", errXZHeader)
		}
		props := rest[:propLen]
		rest = rest[propLen:]
		last := i == nFilters-1
		switch {
		case id == filterX86 && !last && propLen == 0:
			x86 = true
		case id == filterLZMA2 && last && propLen == 1:
			if dictCap, err = lzma2DictCap(props[0]); err != nil {
				return false, 0, err
			}
		default:
			return false, 0, fmt.Errorf("%w: xz filter %#x (position %d)", ErrUnsupportedCompression, id, i)
		}
	}
	return x86, dictCap, nil
}

// lzma2DictCap decodes the LZMA2 dictionary-size property byte.
func lzma2DictCap(b byte) (int, error) {
	if b > 40 {
		return 0, fmt.Errorf("%w: LZMA2 dictionary property %d", errXZHeader, b)
	}
	size := uint64(2|b&1) << (b/2 + 11)
	if b == 40 || size > maxDictCap {
		return 0, fmt.Errorf("%w: LZMA2 dictionary of %d bytes", ErrTooLarge, size)
	}
	return max(int(size), lzma.MinDictCap), nil
}

// uvarint reads an xz multibyte integer (at most 9 bytes).
func uvarint(b []byte) (uint64, []byte, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 || n > 9 {
		return 0, nil, fmt.Errorf("%w: bad integer", errXZHeader)
	}
	return v, b[n:], nil
}

// unBCJx86 undoes xz's x86 branch filter in place. The filter rewrote the
// relative targets of E8 (call) and E9 (jmp) instructions as absolute ones,
// guided by a small mask of recently seen E8/E9 bytes; decoding replays the
// same scan with the same state, starting at stream position 0.
func unBCJx86(buf []byte) {
	allowed := [8]bool{true, true, true, false, true, false, false, false}
	bitNum := [8]uint32{0, 1, 2, 2, 3, 3, 3, 3}
	isMSByte := func(b byte) bool { return b == 0 || b == 0xff }

	var mask uint32
	prevPos := -5
	for i := 0; i+5 <= len(buf); {
		if buf[i] != 0xe8 && buf[i] != 0xe9 {
			i++
			continue
		}
		if d := i - prevPos; d > 5 {
			mask = 0
		} else {
			for range d {
				mask = (mask & 0x77) << 1
			}
		}
		prevPos = i
		b := buf[i+4]
		if !isMSByte(b) || !allowed[(mask>>1)&7] || mask>>1 >= 0x10 {
			i++
			mask |= 1
			if isMSByte(b) {
				mask |= 0x10
			}
			continue
		}
		src := binary.LittleEndian.Uint32(buf[i+1:])
		var dest uint32
		for {
			dest = src - uint32(i+5)
			if mask == 0 {
				break
			}
			n := bitNum[mask>>1]
			if !isMSByte(byte(dest >> (24 - n*8))) {
				break
			}
			src = dest ^ (1<<(32-n*8) - 1)
		}
		dest &= 0x01ffffff
		if dest&0x01000000 != 0 {
			dest |= 0xff000000
		}
		binary.LittleEndian.PutUint32(buf[i+1:], dest)
		i += 5
		mask = 0
	}
}
