package ntsvc

import (
	_ "embed"
	"strconv"
	"strings"
)

var (
	//go:embed nt-win7sp1-x64.tsv
	ntTSV string
	//go:embed win32k-win7sp1-x64.tsv
	win32kTSV string
)

// Service is one entry of a service table.
type Service struct {
	Name string
	Args int // -1 when the table does not say (win32k)
}

// Table bits of a service number (eax bits 12-13).
const (
	TableNT     = 0
	TableWin32k = 1
)

// NT and Win32k are the services by index within their table.
var (
	NT     = parse(ntTSV, 0)
	Win32k = parse(win32kTSV, 0x1000)
)

// parse reads "index<TAB>name[<TAB>args]" lines; index minus base is the
// position. The files are part of the build: a malformed line is a bug
// caught by the package's test, so it is skipped here.
func parse(tsv string, base int) []Service {
	var out []Service
	for line := range strings.Lines(tsv) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(strings.TrimSpace(line), "\t")
		idx, err := strconv.ParseInt(f[0], 16, 32)
		if err != nil || len(f) < 2 || int(idx)-base != len(out) {
			continue
		}
		s := Service{Name: f[1], Args: -1}
		if len(f) > 2 {
			if n, err := strconv.Atoi(f[2]); err == nil {
				s.Args = n
			}
		}
		out = append(out, s)
	}
	return out
}

// Lookup returns the service number (table bits included) of name.
func Lookup(name string) (uint32, bool) {
	for i, s := range NT {
		if s.Name == name {
			return uint32(i), true
		}
	}
	for i, s := range Win32k {
		if s.Name == name {
			return uint32(0x1000 + i), true
		}
	}
	return 0, false
}
