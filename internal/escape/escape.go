package escape

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

const hex = "0123456789abcdef"

// Append appends b to dst rendered as printable ASCII the way strace does
// inside quotes: \t \n \v \f \r, \" and \\ by name, any other byte outside
// 0x20..0x7e as \xNN. Nothing it appends can drive a terminal.
func Append(dst, b []byte) []byte {
	for _, c := range b {
		dst = appendByte(dst, c)
	}
	return dst
}

// Bytes is Append to nothing, as a string.
func Bytes(b []byte) string { return string(Append(make([]byte, 0, len(b)), b)) }

// String is Bytes for a string.
func String(s string) string {
	for i := 0; i < len(s); i++ {
		if needsEscape(s[i]) {
			return Bytes([]byte(s))
		}
	}
	return s // the common case: nothing to escape, no allocation
}

func needsEscape(c byte) bool { return c < 0x20 || c > 0x7e || c == '"' || c == '\\' }

func appendByte(dst []byte, c byte) []byte {
	if !needsEscape(c) {
		return append(dst, c)
	}
	switch c {
	case '\t':
		return append(dst, `\t`...)
	case '\n':
		return append(dst, `\n`...)
	case '\v':
		return append(dst, `\v`...)
	case '\f':
		return append(dst, `\f`...)
	case '\r':
		return append(dst, `\r`...)
	case '"':
		return append(dst, `\"`...)
	case '\\':
		return append(dst, `\\`...)
	}
	return append(dst, '\\', 'x', hex[c>>4], hex[c&0xf])
}

// Field is String for one field of whitespace-separated text (a symbol
// name in /proc/kallsyms's form): a space is written \x20 as well, so a
// name stays one field. Unescape reads it back.
func Field(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			b = append(b, `\x20`...)
		} else {
			b = appendByte(b, s[i])
		}
	}
	return string(b)
}

// Unescape reverses Append (and Field). It refuses a byte Append would
// have escaped and a backslash that starts no escape Append writes, so
// text that was not written by Append cannot smuggle control bytes in.
func Unescape(s string) (string, error) {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			if needsEscape(c) {
				return "", fmt.Errorf("byte %#02x not escaped", c)
			}
			b = append(b, c)
			continue
		}
		if i+1 == len(s) {
			return "", errors.New("a lone backslash at the end")
		}
		i++
		switch s[i] {
		case 't':
			b = append(b, '\t')
		case 'n':
			b = append(b, '\n')
		case 'v':
			b = append(b, '\v')
		case 'f':
			b = append(b, '\f')
		case 'r':
			b = append(b, '\r')
		case '"', '\\':
			b = append(b, s[i])
		case 'x':
			if i+2 >= len(s) {
				return "", errors.New(`\x needs two hex digits`)
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return "", fmt.Errorf(`\x needs two hex digits, got %q`, s[i+1:i+3])
			}
			b = append(b, byte(v))
			i += 2
		default:
			return "", fmt.Errorf(`unknown escape \%c`, s[i])
		}
	}
	return string(b), nil
}

// JSON appends encoded JSON (encoding/json's output, valid UTF-8) to dst
// with every rune above 0x7e written \uXXXX: DEL, C1 controls such as
// U+009B (a CSI to some terminals) and bidi overrides can then reach no
// terminal, and the JSON still decodes to the same strings.
func JSON(dst, src []byte) []byte {
	for len(src) > 0 {
		r, n := utf8.DecodeRune(src)
		if r < 0x7f {
			dst = append(dst, src[0])
			src = src[1:]
			continue
		}
		src = src[n:]
		if r > 0xffff {
			r1, r2 := utf16.EncodeRune(r)
			dst = appendU(appendU(dst, r1), r2)
		} else {
			dst = appendU(dst, r)
		}
	}
	return dst
}

func appendU(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
}
