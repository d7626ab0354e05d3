package rsp

import (
	"bufio"
	"fmt"
	"io"
)

// DefaultMaxPacket bounds the decoded size of a packet from the stub. QEMU
// advertises PacketSize=1000 (hex), so its largest replies are 4 KiB.
const DefaultMaxPacket = 64 << 10

// appendFrame appends data framed as `$data#cs` to dst, escaping the bytes
// that have a meaning inside a frame, so binary payloads (X, M-less writes)
// pass unchanged.
func appendFrame(dst, data []byte) []byte {
	dst = append(dst, '$')
	var sum byte
	for _, b := range data {
		switch b {
		case '$', '#', '}', '*':
			dst = append(dst, '}', b^0x20)
			sum += '}' + (b ^ 0x20)
		default:
			dst = append(dst, b)
			sum += b
		}
	}
	return append(dst, '#', hexDigits[sum>>4], hexDigits[sum&15])
}

const hexDigits = "0123456789abcdef"

// frame is one unit read from the stub: an acknowledgement ('+', '-') or a
// packet ('$', '%' for notifications) with its decoded payload.
type frame struct {
	kind byte
	data []byte
}

// readFrame reads the next frame, skipping line noise between frames. A
// packet whose checksum does not match is returned with ErrChecksum; its
// payload is still consumed so the stream stays in sync. Any other error is
// from the reader and ends the stream.
func readFrame(br *bufio.Reader, maxPacket int) (frame, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return frame{}, err
		}
		switch b {
		case '+', '-':
			return frame{kind: b}, nil
		case '$', '%':
			data, err := readPayload(br, maxPacket)
			return frame{kind: b, data: data}, err
		}
	}
}

// readPayload reads `data#cs` after the leading '$', undoing escapes and
// run-length encoding. The decoded payload is bounded by maxPacket and the
// raw bytes by twice that (escapes double the size), so a stub that never
// sends '#' cannot make the client buffer without end.
func readPayload(br *bufio.Reader, maxPacket int) ([]byte, error) {
	var (
		data    []byte
		sum     byte
		raw     int
		escaped bool
		tooBig  bool
	)
	for {
		b, err := br.ReadByte()
		if err != nil {
			return nil, err
		}
		if b == '#' && !escaped {
			break
		}
		raw++
		if raw > 2*maxPacket {
			return nil, fmt.Errorf("%w: more than %d raw bytes", ErrTooLarge, 2*maxPacket)
		}
		sum += b
		switch {
		case escaped:
			escaped = false
			data = append(data, b^0x20)
		case b == '}':
			escaped = true
			continue
		case b == '*' && len(data) > 0:
			// Run-length: the previous byte repeats (n - 29) more times.
			n, err := br.ReadByte()
			if err != nil {
				return nil, err
			}
			raw++
			sum += n
			if n < 29 || n > 126 {
				return nil, fmt.Errorf("%w: run length byte %#x", ErrMalformed, n)
			}
			count := int(n) - 29
			if len(data)+count > maxPacket {
				tooBig = true
				continue
			}
			last := data[len(data)-1]
			for range count {
				data = append(data, last)
			}
			continue
		default:
			data = append(data, b)
		}
		if len(data) > maxPacket {
			tooBig = true
			data = data[:0]
		}
	}
	var cs [2]byte
	if _, err := io.ReadFull(br, cs[:]); err != nil {
		return nil, err
	}
	if tooBig {
		return nil, fmt.Errorf("%w: over %d decoded bytes", ErrTooLarge, maxPacket)
	}
	want, ok := parseHexByte(cs[0], cs[1])
	if !ok || want != sum {
		return nil, fmt.Errorf("%w: got %q, computed %02x", ErrChecksum, cs[:], sum)
	}
	return data, nil
}
