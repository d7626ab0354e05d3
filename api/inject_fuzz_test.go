package api

import (
	"errors"
	"reflect"
	"testing"
)

// FuzzParseInjection gives ParseInjection what a user types after
// --inject: an ErrBadInjection or an injection that Check accepts and whose
// String parses back to itself (the TUI and recordings show that text).
func FuzzParseInjection(f *testing.F) {
	for _, s := range []string{
		"openat:error=ENOENT:when=3+", "write:retval=0x2a", "read:error=EIO:when=2..9+3",
		"!read,write:error=EPERM", "all:error=ENOSYS", "openat:error=ENOENT:pid=93:count=1",
		"read:when=4:error=EIO:when=1+", "openat:error=EIO:count=-1", "%file:error=EIO",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		in, err := ParseInjection(spec)
		if err != nil {
			if !errors.Is(err, ErrBadInjection) {
				t.Fatalf("%q: %v does not wrap ErrBadInjection", spec, err)
			}
			return
		}
		if err := in.Check(); err != nil {
			t.Fatalf("%q parsed, but Check says %v", spec, err)
		}
		if again, err := ParseInjection(in.String()); err != nil || !reflect.DeepEqual(again, in) {
			t.Fatalf("%q reads back as %q, which parses to %+v, %v; want %+v", spec, in.String(), again, err, in)
		}
	})
}
