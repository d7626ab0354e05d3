package strace

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"nitro/core/backend"
)

// The generated tables must match their inputs, and hold their kernel's
// calls: run `go generate` after editing a syscalls_*.txt.
func TestTablesMatchInputs(t *testing.T) {
	for _, c := range []struct {
		abi   backend.ABI
		file  string
		calls int
	}{
		{backend.X8664, "syscalls_x86_64.txt", 336 + 39}, // 0..335, 424..462
		// 0..386 but 222, 223, 251, 285; 393..414; 416..462.
		{backend.I386, "syscalls_i386.txt", 387 - 4 + 22 + 47},
	} {
		tab := For(c.abi)
		src, err := os.ReadFile(c.file)
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
			nr, err := tab.Lookup(f[1])
			if err != nil || tab.Name(nr) != f[1] || f[0] != strconv.FormatUint(nr, 10) || !tab.Known(nr) {
				t.Errorf("%s: %s %s: table has %s at %d (%v)", c.abi, f[0], f[1], tab.Name(nr), nr, err)
				continue
			}
			e := tab.table[nr]
			if e.ret != rets[f[2]] || len(e.args) != len(f)-3 {
				t.Errorf("%s: %s: table has result %d and %d args, input %s and %d", c.abi, f[1], e.ret, len(e.args), f[2], len(f)-3)
			}
			seen++
		}
		named := 0
		for _, e := range tab.table {
			if e.name != "" {
				named++
			}
		}
		if named != seen || named != c.calls {
			t.Errorf("%s: table has %d calls, input %d, want %d", c.abi, named, seen, c.calls)
		}
	}
}
