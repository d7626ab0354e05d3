package bzimage

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"nitro/internal/testenv"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// makeBzImage wraps a compressed payload the way the kernel build does:
// setup sectors, then the protected-mode part holding the payload followed
// by the 4-byte decompressed size.
func makeBzImage(payload []byte, size int) []byte {
	const setupSects, payloadOff = 3, 0x80
	img := make([]byte, (setupSects+1)*512+payloadOff)
	img[offSetupSects] = setupSects
	copy(img[offHeaderMagic:], "HdrS")
	binary.LittleEndian.PutUint32(img[offPayloadOffset:], payloadOff)
	binary.LittleEndian.PutUint32(img[offPayloadLength:], uint32(len(payload)+4))
	img = append(img, payload...)
	img = binary.LittleEndian.AppendUint32(img, uint32(size))
	return append(img, bytes.Repeat([]byte{0x90}, 64)...)
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func compressed(t testing.TB, plain []byte) map[string][]byte {
	t.Helper()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain)
	zw.Close()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	// The kernel build writes LZ4's legacy frame (lz4 -l).
	var lz bytes.Buffer
	lw := lz4.NewWriter(&lz)
	if err := lw.Apply(lz4.LegacyOption(true)); err != nil {
		t.Fatal(err)
	}
	lw.Write(plain)
	lw.Close()
	// bcj.bin.xz was made with: xz --check=crc32 --x86 --lzma2=dict=1MiB
	return map[string][]byte{
		"xz+x86": readTestdata(t, "bcj.bin.xz"),
		"zstd":   enc.EncodeAll(plain, nil),
		"gzip":   gz.Bytes(),
		"lz4":    lz.Bytes(),
	}
}

func TestExtract(t *testing.T) {
	plain := readTestdata(t, "bcj.bin")
	for name, payload := range compressed(t, plain) {
		t.Run(name, func(t *testing.T) {
			got, err := Extract(makeBzImage(payload, len(plain)))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatal("decompressed bytes differ from the original")
			}
		})
	}
}

func TestExtractErrors(t *testing.T) {
	xzPayload := readTestdata(t, "bcj.bin.xz")
	badFilter := bytes.Clone(xzPayload)
	badFilter[xzStreamHeaderLen+2] = 0x03 // the delta filter instead of x86 BCJ
	tests := map[string]struct {
		image []byte
		want  error
	}{
		"empty":           {nil, ErrNotBzImage},
		"no HdrS":         {make([]byte, 4096), ErrNotBzImage},
		"payload beyond":  {makeBzImage(xzPayload, 0)[:1000], ErrNotBzImage},
		"bzip2":           {makeBzImage([]byte("BZh91AY&SY"), 100), ErrUnsupportedCompression},
		"truncated xz":    {makeBzImage(xzPayload[:200], 0), nil},
		"header checksum": {makeBzImage(badFilter, 8192), errXZHeader},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Extract(tc.image)
			if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestParseFilters(t *testing.T) {
	for name, tc := range map[string]struct {
		hdr      []byte
		x86      bool
		dict     int
		wantFail bool
	}{
		"x86+lzma2":      {[]byte{3, 0x01, 0x04, 0x00, 0x21, 0x01, 0x1a}, true, 32 << 20, false},
		"lzma2 only":     {[]byte{2, 0x00, 0x21, 0x01, 0x10}, false, 1 << 20, false},
		"delta":          {[]byte{3, 0x01, 0x03, 0x01, 0x00, 0x21, 0x01, 0x10}, false, 0, true},
		"lzma2 first":    {[]byte{3, 0x01, 0x21, 0x01, 0x10, 0x04, 0x00}, false, 0, true},
		"huge dict":      {[]byte{2, 0x00, 0x21, 0x01, 40}, false, 0, true},
		"props overrun":  {[]byte{2, 0x00, 0x21, 0x09}, false, 0, true},
		"reserved flags": {[]byte{2, 0x04, 0x21, 0x01, 0x10}, false, 0, true},
	} {
		t.Run(name, func(t *testing.T) {
			x86, dict, err := parseFilters(tc.hdr)
			if tc.wantFail {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil || x86 != tc.x86 || dict != tc.dict {
				t.Fatalf("= %v, %d, %v; want %v, %d", x86, dict, err, tc.x86, tc.dict)
			}
		})
	}
}

// TestBootKernelMatchesXZ checks Extract against the xz tool on the
// machine's Debian 6.1 kernel (xz with the x86 BCJ filter).
func TestBootKernelMatchesXZ(t *testing.T) {
	paths, _ := filepath.Glob("/boot/vmlinuz-6.1.*")
	if testing.Short() {
		t.Skip("decompressing a /boot kernel takes seconds; skipped with -short")
	}
	xz, err := exec.LookPath("xz")
	if len(paths) == 0 || err != nil {
		testenv.Missing(t, "needs /boot/vmlinuz-6.1.* (Debian linux-image-6.1) and the xz tool")
	}
	image, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	got, err := Extract(image)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := Payload(image)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(xz, "-dc", "--single-stream")
	cmd.Stdin = bytes.NewReader(payload)
	want, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("Extract differs from xz -d")
	}
}

func FuzzExtract(f *testing.F) {
	plain := readTestdata(f, "bcj.bin")
	for _, p := range compressed(f, plain[:512]) {
		f.Add(makeBzImage(p, 512))
	}
	f.Add(makeBzImage(readTestdata(f, "bcj.bin.xz"), len(plain)))
	f.Fuzz(func(t *testing.T, image []byte) {
		out, err := Extract(image)
		if err == nil && len(out) > MaxVmlinuxSize {
			t.Fatalf("%d bytes out", len(out))
		}
	})
}

func BenchmarkExtractBoot(b *testing.B) {
	for _, glob := range []string{"/boot/vmlinuz-6.1.*", "/boot/vmlinuz-6.12.*"} {
		b.Run(glob, func(b *testing.B) {
			paths, _ := filepath.Glob(glob)
			if len(paths) == 0 {
				testenv.Missing(b, "no %s", glob)
			}
			image, err := os.ReadFile(paths[0])
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := Extract(image); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
