package rsp

import (
	"encoding/hex"
	"fmt"
	"strconv"
)

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func parseHexByte(hi, lo byte) (byte, bool) {
	h, ok1 := hexVal(hi)
	l, ok2 := hexVal(lo)
	return h<<4 | l, ok1 && ok2
}

// decodeHex decodes a hex reply. Register replies may hold "xx" for bytes
// the stub cannot read; those decode as zero.
func decodeHex(s []byte) ([]byte, error) {
	if len(s)%2 != 0 {
		return nil, fmt.Errorf("%w: odd-length hex %.32q", ErrMalformed, s)
	}
	out := make([]byte, len(s)/2)
	for i := range out {
		hi, lo := s[2*i], s[2*i+1]
		if hi == 'x' && lo == 'x' {
			continue
		}
		b, ok := parseHexByte(hi, lo)
		if !ok {
			return nil, fmt.Errorf("%w: bad hex %.32q", ErrMalformed, s)
		}
		out[i] = b
	}
	return out, nil
}

// parseHexUint parses a big-endian hex number as the protocol writes
// addresses, thread ids and signal numbers.
func parseHexUint(s string, bits int) (uint64, error) {
	v, err := strconv.ParseUint(s, 16, bits)
	if err != nil {
		return 0, fmt.Errorf("%w: bad hex number %.32q", ErrMalformed, s)
	}
	return v, nil
}

func appendHex(dst, p []byte) []byte { return hex.AppendEncode(dst, p) }
