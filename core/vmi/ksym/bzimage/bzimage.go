package bzimage

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// MaxVmlinuxSize caps the decompressed kernel: a hostile or corrupt image
// must not make us allocate without bound. Debian's vmlinux is about 66 MiB.
const MaxVmlinuxSize = 512 << 20

// maxWindow bounds the decompressors' history buffers: 128 MiB is what
// zstd -22 --ultra (the kernel's zstd setting) uses; xz uses 32 MiB.
const maxWindow = 128 << 20

// maxRatio is a generous kernel compression ratio (Debian's are 5 to 8).
const maxRatio = 16

var (
	// ErrNotBzImage is returned when the boot protocol header is missing.
	ErrNotBzImage = errors.New("not an x86 bzImage")
	// ErrUnsupportedCompression is returned for payload formats we do not decode.
	ErrUnsupportedCompression = errors.New("unsupported kernel compression")
	// ErrTooLarge is returned when the payload inflates beyond MaxVmlinuxSize.
	ErrTooLarge = errors.New("decompressed kernel too large")
)

// Offsets into the setup header, from the x86 boot protocol
// (Documentation/arch/x86/boot.rst).
const (
	offSetupSects    = 0x1f1
	offHeaderMagic   = 0x202
	offPayloadOffset = 0x248
	offPayloadLength = 0x24c
	headerEnd        = 0x250
)

// Compressed payload magics.
var (
	magicXZ   = []byte{0xfd, '7', 'z', 'X', 'Z', 0}
	magicZstd = []byte{0x28, 0xb5, 0x2f, 0xfd}
	magicGzip = []byte{0x1f, 0x8b}
	// magicLZ4 starts LZ4's legacy frame, the one the kernel build writes
	// (Debian's cloud 6.1 kernels use it).
	magicLZ4 = []byte{0x02, 0x21, 0x4c, 0x18}
)

// Payload returns the compressed kernel inside a bzImage, as the boot
// protocol header locates it.
func Payload(image []byte) ([]byte, error) {
	if len(image) < headerEnd || string(image[offHeaderMagic:offHeaderMagic+4]) != "HdrS" {
		return nil, ErrNotBzImage
	}
	setupSects := int(image[offSetupSects])
	if setupSects == 0 {
		setupSects = 4 // boot protocol: 0 means 4
	}
	off := uint64(setupSects+1)*512 + uint64(binary.LittleEndian.Uint32(image[offPayloadOffset:]))
	n := uint64(binary.LittleEndian.Uint32(image[offPayloadLength:]))
	if n == 0 || off+n > uint64(len(image)) {
		return nil, fmt.Errorf("%w: payload [%#x,+%#x) outside the %d-byte image", ErrNotBzImage, off, n, len(image))
	}
	return image[off : off+n], nil
}

// Extract decompresses the vmlinux ELF from a bzImage.
func Extract(image []byte) ([]byte, error) {
	p, err := Payload(image)
	if err != nil {
		return nil, err
	}
	// The build appends the decompressed size to the compressed data
	// (size_append); it bounds the output and checks it.
	if len(p) < 4 {
		return nil, fmt.Errorf("%w: %d-byte payload", ErrNotBzImage, len(p))
	}
	size := int(binary.LittleEndian.Uint32(p[len(p)-4:]))
	if size == 0 {
		return nil, fmt.Errorf("%w: payload announces 0 bytes", ErrNotBzImage)
	}
	if size > MaxVmlinuxSize {
		return nil, fmt.Errorf("%w: payload claims %d bytes", ErrTooLarge, size)
	}
	p = p[:len(p)-4]
	var r io.Reader
	x86 := false // the xz payload went through the x86 BCJ filter
	switch {
	case bytes.HasPrefix(p, magicXZ):
		r, x86, err = newXZReader(p)
	case bytes.HasPrefix(p, magicZstd):
		var d *zstd.Decoder
		if d, err = zstd.NewReader(bytes.NewReader(p), zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxMemory(MaxVmlinuxSize), zstd.WithDecoderMaxWindow(maxWindow)); err == nil {
			defer d.Close()
			r = d
		}
	case bytes.HasPrefix(p, magicGzip):
		var z *gzip.Reader
		if z, err = gzip.NewReader(bytes.NewReader(p)); err == nil {
			r = z
		}
	case bytes.HasPrefix(p, magicLZ4):
		r = lz4.NewReader(bytes.NewReader(p))
	default:
		return nil, fmt.Errorf("%w: payload starts % x", ErrUnsupportedCompression, p[:min(len(p), 4)])
	}
	if err != nil {
		return nil, fmt.Errorf("decompressing kernel payload: %w", err)
	}
	// Allocate what the payload can plausibly inflate to, and grow beyond
	// only as data arrives: a payload that lies about its size must not
	// cost an allocation of that size.
	var buf bytes.Buffer
	buf.Grow(min(size+1, maxRatio*len(p)))
	if _, err := buf.ReadFrom(io.LimitReader(r, int64(size)+1)); err != nil {
		return nil, fmt.Errorf("decompressing kernel payload: %w", err)
	}
	if buf.Len() != size {
		return nil, fmt.Errorf("decompressing kernel payload: %d bytes, the image announces %d", buf.Len(), size)
	}
	out := buf.Bytes()
	if x86 {
		unBCJx86(out)
	}
	return out, nil
}

// ExtractFile reads the bzImage at path and extracts its vmlinux.
func ExtractFile(path string) ([]byte, error) {
	image, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out, err := Extract(image)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}
