package escape

import "strings"

const hex = "0123456789abcdef"

// Bytes renders b as printable ASCII the way strace does inside quotes:
// \t \n \v \f \r, \" and \\ by name, any other byte outside 0x20..0x7e as
// \xNN. Nothing it returns can drive a terminal.
func Bytes(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	for _, c := range b {
		writeByte(&sb, c)
	}
	return sb.String()
}

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

func writeByte(sb *strings.Builder, c byte) {
	if !needsEscape(c) {
		sb.WriteByte(c)
		return
	}
	switch c {
	case '\t':
		sb.WriteString(`\t`)
	case '\n':
		sb.WriteString(`\n`)
	case '\v':
		sb.WriteString(`\v`)
	case '\f':
		sb.WriteString(`\f`)
	case '\r':
		sb.WriteString(`\r`)
	case '"':
		sb.WriteString(`\"`)
	case '\\':
		sb.WriteString(`\\`)
	default:
		sb.WriteString(`\x`)
		sb.WriteByte(hex[c>>4])
		sb.WriteByte(hex[c&0xf])
	}
}
