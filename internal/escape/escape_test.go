package escape

import (
	"testing"
	"unicode/utf8"
)

func TestBytes(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"cat", "cat"},
		{"a\tb\nc\r", `a\tb\nc\r`},
		{"\x1b[2J\x1b]0;pwned\x07", `\x1b[2J\x1b]0;pwned\x07`},
		{`say "hi"\`, `say \"hi\"\\`},
		{"\x00\x7f\xff", `\x00\x7f\xff`},
		{"é", `\xc3\xa9`},
	}
	for _, c := range cases {
		if got := Bytes([]byte(c.in)); got != c.want {
			t.Errorf("Bytes(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := String(c.in); got != c.want {
			t.Errorf("String(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := string(Append([]byte("x="), []byte(c.in))); got != "x="+c.want {
			t.Errorf("Append(x=, %q) = %q, want %q", c.in, got, "x="+c.want)
		}
	}
}

func FuzzString(f *testing.F) {
	f.Add("\x1b[31mred\x9b")
	f.Add("plain")
	f.Fuzz(func(t *testing.T, s string) {
		out := String(s)
		for i := 0; i < len(out); i++ {
			if out[i] < 0x20 || out[i] > 0x7e {
				t.Fatalf("String(%q) left byte %#x in %q", s, out[i], out)
			}
		}
		if !utf8.ValidString(out) {
			t.Fatalf("String(%q) is not valid UTF-8", s)
		}
	})
}
