package ntsvc

import "testing"

func TestTables(t *testing.T) {
	if len(NT) != 401 || len(Win32k) != 827 {
		t.Fatalf("nt %d services, win32k %d: want 401 and 827", len(NT), len(Win32k))
	}
	for i, s := range NT {
		if s.Args < 0 || s.Args > 17 {
			t.Errorf("nt %#x %s: %d arguments", i, s.Name, s.Args)
		}
	}
	for name, want := range map[string]struct {
		nr   uint32
		args int
	}{"NtCreateFile": {0x52, 11}, "NtReadFile": {0x3, 9}, "NtClose": {0xc, 1}, "NtSetValueKey": {0x5d, 6}} {
		nr, ok := Lookup(name)
		if !ok || nr != want.nr || NT[nr].Args != want.args {
			t.Errorf("%s: %#x %v, %+v; want %#x with %d arguments", name, nr, ok, NT[nr], want.nr, want.args)
		}
	}
	if nr, ok := Lookup("NtUserGetThreadState"); !ok || nr != 0x1000 {
		t.Errorf("NtUserGetThreadState: %#x %v", nr, ok)
	}
}
