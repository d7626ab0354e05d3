package escape

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
