package strace

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// The generated table must match its input: run `go generate` after
// editing syscalls_x86_64.txt.
func TestTableMatchesInput(t *testing.T) {
	src, err := os.ReadFile("syscalls_x86_64.txt")
	if err != nil {
		t.Fatal(err)
	}
	rets := map[string]retKind{"Dec": retDec, "Hex": retHex, "Oct": retOct, "None": retNone}
	seen := 0
	for _, l := range strings.Split(string(src), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		nr, err := Lookup(f[1])
		if err != nil || Name(nr) != f[1] || f[0] != strconv.FormatUint(nr, 10) {
			t.Errorf("%s %s: table has %s at %d (%v)", f[0], f[1], Name(nr), nr, err)
			continue
		}
		e := table[nr]
		if e.ret != rets[f[2]] || len(e.args) != len(f)-3 {
			t.Errorf("%s: table has result %d and %d args, input %s and %d", f[1], e.ret, len(e.args), f[2], len(f)-3)
		}
		seen++
	}
	named := 0
	for _, e := range table {
		if e.name != "" {
			named++
		}
	}
	if named != seen {
		t.Errorf("table has %d calls, input %d", named, seen)
	}
	// Linux 6.12 has 0..335 and 424..462.
	if want := 336 + 39; named != want {
		t.Errorf("table has %d calls, want %d", named, want)
	}
}
