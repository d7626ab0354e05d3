package rsp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func read1(t *testing.T, in string, max int) (frame, error) {
	t.Helper()
	return readFrame(bufio.NewReader(strings.NewReader(in)), max)
}

// raw frames body (already escaped and encoded) with its checksum.
func raw(body string) string {
	var sum byte
	for i := range len(body) {
		sum += body[i]
	}
	return fmt.Sprintf("$%s#%02x", body, sum)
}

func TestFrameRoundTrip(t *testing.T) {
	for _, data := range []string{"", "g", "OK", "X1000,4:$#}*", string([]byte{0, 0x7d, 0xff, '#'})} {
		f, err := read1(t, string(appendFrame(nil, []byte(data))), DefaultMaxPacket)
		if err != nil || f.kind != '$' || string(f.data) != data {
			t.Errorf("round trip of %q: got %q, %v", data, f.data, err)
		}
	}
}

func TestReadFrame(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		kind           byte
		err            error
	}{
		{name: "plain", in: "$OK#9a", kind: '$', want: "OK"},
		{name: "noise before", in: "\x00zz$OK#9a", kind: '$', want: "OK"},
		{name: "ack", in: "+$OK#9a", kind: '+'},
		{name: "nack", in: "-", kind: '-'},
		{name: "run length", in: raw("0* "), kind: '$', want: "0000"}, // ' ' is 32: 32-29 = 3 more
		{name: "escape", in: raw("}]"), kind: '$', want: "}"},
		{name: "escaped hash", in: raw("a}\x03b"), kind: '$', want: "a#b"},
		{name: "upper-case checksum", in: "$OK#9A", kind: '$', want: "OK"},
		{name: "bad checksum", in: "$OK#00", err: ErrChecksum},
		{name: "bad checksum digits", in: "$OK#zz", err: ErrChecksum},
		{name: "bad run length", in: "$0*\x01#00", err: ErrMalformed},
		{name: "too long", in: "$" + strings.Repeat("a", 100) + "#00", err: ErrTooLarge},
		{name: "run length too long", in: "$0*~0*~#00", err: ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := read1(t, tc.in, 64)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("got %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || f.kind != tc.kind || string(f.data) != tc.want {
				t.Fatalf("got %q %q %v, want %q %q", f.kind, f.data, err, tc.kind, tc.want)
			}
		})
	}
}

func TestReadFrameTooLongWithoutEnd(t *testing.T) {
	// A stub that never sends '#' must not make the client buffer forever.
	_, err := read1(t, "$"+strings.Repeat("a", 1000), 64)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
}

func TestParseStop(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Stop
	}{
		{"T05thread:p01.02;", Stop{Kind: Stopped, Signal: 5, Thread: Thread{1, 2}, HasThread: true}},
		{"T02thread:p1.1;core:0;", Stop{Kind: Stopped, Signal: 2, Thread: Thread{1, 1}, HasThread: true}},
		{"T05thread:03;watch:ffff8000;", Stop{Signal: 5, Thread: Thread{0, 3}, HasThread: true, Reason: "watch", Addr: 0xffff8000}},
		{"T05swbreak:;thread:p1.-1;", Stop{Signal: 5, Thread: Thread{1, -1}, HasThread: true, Reason: "swbreak"}},
		{"S05", Stop{Signal: 5}},
		{"W00", Stop{Kind: Exited}},
		{"W01;process:1", Stop{Kind: Exited, Signal: 1}},
		{"X09", Stop{Kind: Terminated, Signal: 9}},
	} {
		got, err := parseStop([]byte(tc.in))
		if err != nil || got != tc.want {
			t.Errorf("parseStop(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "T0", "OK", "Tzz", "T05thread:pzz.1;", "T05thread:p1.zz;", "T05watch:xyz;", "E01"} {
		if _, err := parseStop([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("parseStop(%q): got %v, want ErrMalformed", bad, err)
		}
	}
}

func TestParseFeatures(t *testing.T) {
	f := parseFeatures("PacketSize=1000;qXfer:features:read+;vContSupported+;multiprocess-;junk")
	want := map[string]string{"PacketSize": "1000", "qXfer:features:read": "+", "vContSupported": "+", "multiprocess": "-"}
	if len(f) != len(want) {
		t.Fatalf("got %v, want %v", f, want)
	}
	for k, v := range want {
		if f[k] != v {
			t.Errorf("%s = %q, want %q", k, f[k], v)
		}
	}
}

func TestDecodeHex(t *testing.T) {
	got, err := decodeHex([]byte("00ffxx7F"))
	if err != nil || !bytes.Equal(got, []byte{0, 0xff, 0, 0x7f}) {
		t.Errorf("got %x, %v", got, err)
	}
	for _, bad := range []string{"0", "0g", "x0"} {
		if _, err := decodeHex([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("decodeHex(%q): got %v, want ErrMalformed", bad, err)
		}
	}
}

func TestParseTargetDesc(t *testing.T) {
	docs := map[string]string{
		"target.xml": `<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd"><target><architecture>i386:x86-64</architecture>` +
			`<xi:include href="a.xml"/><xi:include href="b.xml"/></target>`,
		"a.xml": `<feature name="a"><flags id="f" size="4"><field name="CF" start="0" end="0"/></flags>` +
			`<reg name="rax" bitsize="64" type="int64"/><reg name="eflags" bitsize="32" type="f"/></feature>`,
		"b.xml": `<feature name="b"><reg name="xmm0" bitsize="128" regnum="7" group="sse"/><reg name="mxcsr" bitsize="32"/></feature>`,
	}
	l, err := parseTargetDesc(func(annex string) ([]byte, error) { return []byte(docs[annex]), nil })
	if err != nil {
		t.Fatal(err)
	}
	if l.Arch != "i386:x86-64" || l.GSize != 8+4+16+4 {
		t.Fatalf("arch %q gsize %d", l.Arch, l.GSize)
	}
	want := []Register{
		{Name: "rax", Num: 0, Size: 8, Offset: 0, Type: "int64"},
		{Name: "eflags", Num: 1, Size: 4, Offset: 8, Type: "f"},
		{Name: "xmm0", Num: 7, Size: 16, Offset: 12, Group: "sse"},
		{Name: "mxcsr", Num: 8, Size: 4, Offset: 28},
	}
	for i, r := range want {
		if l.Registers[i] != r {
			t.Errorf("register %d = %+v, want %+v", i, l.Registers[i], r)
		}
	}
	if r, ok := l.Lookup("mxcsr"); !ok || r.Num != 8 {
		t.Errorf("Lookup(mxcsr) = %+v, %v", r, ok)
	}
}

func TestParseTargetDescHostile(t *testing.T) {
	loop := `<target><xi:include href="target.xml"/></target>`
	for name, doc := range map[string]string{
		"include loop": loop,
		"no registers": `<target></target>`,
		"bad bitsize":  `<feature><reg name="a" bitsize="7"/></feature>`,
		"huge bitsize": `<feature><reg name="a" bitsize="99999999"/></feature>`,
		"duplicate":    `<feature><reg name="a" bitsize="8" regnum="1"/><reg name="b" bitsize="8" regnum="1"/></feature>`,
		"bad include":  `<target><xi:include href="../x:y"/></target>`,
		"no name":      `<feature><reg bitsize="8"/></feature>`,
		"broken xml":   `<feature><reg name="a" bitsize="8"`,
	} {
		_, err := parseTargetDesc(func(string) ([]byte, error) { return []byte(doc), nil })
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
}

func TestRegisterUint(t *testing.T) {
	raw := make([]byte, 12)
	eflags := Register{Name: "eflags", Size: 4, Offset: 8}
	eflags.PutUint(raw, 0x1_0000_0246)
	if got := eflags.Uint(raw); got != 0x246 {
		t.Errorf("got %#x, want 0x246 (truncated to 4 bytes)", got)
	}
	out := Register{Name: "far", Size: 8, Offset: 8}
	if out.In(raw) || out.Uint(raw) != 0 {
		t.Error("register beyond the payload should read as absent")
	}
}
