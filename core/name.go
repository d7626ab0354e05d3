package core

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"nitro/internal/escape"
)

// ErrBadDomainName is a domain name nitro refuses to use.
var ErrBadDomainName = errors.New("invalid domain name")

// maxDomainName keeps /run/nitro/NAME/gdb.sock within a unix socket
// address (108 bytes with its NUL).
const maxDomainName = 107 - len(runDir+"//gdb.sock")

// checkDomainName refuses a name that cannot safely become a path under
// runDir and one word of QEMU's monitor command (gdbserver unix:PATH,...).
// libvirt itself allows nearly any character.
func checkDomainName(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w %q: %s", ErrBadDomainName, escape.String(name), why)
	}
	switch {
	case name == "":
		return bad("empty")
	case len(name) > maxDomainName:
		return bad(fmt.Sprintf("longer than %d bytes (its gdbstub socket path would not fit)", maxDomainName))
	case !utf8.ValidString(name):
		return bad("not UTF-8")
	case name[0] == '.':
		return bad(`starts with "." (a hidden or parent path)`)
	case strings.ContainsRune(name, '/'):
		return bad(`contains "/" (it becomes a path)`)
	case strings.ContainsRune(name, ','):
		return bad(`contains "," (it would add options to QEMU's gdbserver command)`)
	case strings.IndexFunc(name, unicode.IsSpace) >= 0:
		return bad("contains white space (QEMU's monitor would split it)")
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return bad("contains control characters")
	}
	return nil
}
