package escape

import (
	"encoding/json"
	"strings"
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

func TestUnescape(t *testing.T) {
	for _, s := range []string{"", "cat", "a b\tc\n\x1b[2J\x7f\xc2\x9b\\\"", "\xff"} {
		f := Field(s)
		if strings.ContainsAny(f, " \t\n") {
			t.Errorf("Field(%q) = %q: more than one field", s, f)
		}
		if back, err := Unescape(f); err != nil || back != s {
			t.Errorf("Unescape(Field(%q)) = %q, %v", s, back, err)
		}
	}
	for _, bad := range []string{"a\x1bb", "a\\", `\q`, `\x4`, `\xzz`, "\xc2\x9b", `"`} {
		if got, err := Unescape(bad); err == nil {
			t.Errorf("Unescape(%q) = %q, want an error", bad, got)
		}
	}
}

func FuzzUnescape(f *testing.F) {
	f.Add("\x1b]52;c;eA==\x07 x")
	f.Fuzz(func(t *testing.T, s string) {
		if back, err := Unescape(Field(s)); err != nil || back != s {
			t.Fatalf("Unescape(Field(%q)) = %q, %v", s, back, err)
		}
		if back, err := Unescape(String(s)); err != nil || back != s {
			t.Fatalf("Unescape(String(%q)) = %q, %v", s, back, err)
		}
	})
}

func TestJSON(t *testing.T) {
	in := "a\x7f\u009b\u202e\u2066\U0001F600\xff<"
	raw, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out := JSON(nil, raw)
	for _, c := range out {
		if c < 0x20 || c > 0x7e {
			t.Fatalf("JSON left byte %#x in %s", c, out)
		}
	}
	var back string
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if want := strings.ToValidUTF8(in, "\ufffd"); back != want {
		t.Errorf("read back %q, want %q", back, want)
	}
}
