package core

import (
	"strings"
	"testing"

	"nitro/api"
	"nitro/core/backend"
	"nitro/core/kvm/gdbstub"
	"nitro/core/kvm/rsp"
)

// manyStops is the fake back end with 32-bit entries and exits besides
// (never reached): five places to stop at, one more than the debug
// registers.
type manyStops struct{ *fakeBackend }

func (manyStops) Stops() backend.Stops {
	return backend.Stops{Entry: entry, Exit: exitPoint, CompatEntries: []uint64{kbase + 0x3000}, CompatExits: []uint64{kbase + 0x3100, kbase + 0x3200}}
}

// TestSessionBreakpointKind: a session's stats say which kind of
// breakpoints stops the guest, and why some are software ones when the
// default (auto) could not have hardware ones: more than four needed (the
// rest software), or a stub that refuses them; software when asked for,
// with no note.
func TestSessionBreakpointKind(t *testing.T) {
	for _, tc := range []struct {
		name       string
		b          backend.Backend
		kind       api.BreakpointKind
		noHardware bool
		want       api.BreakpointKind
		note       string
	}{
		{"fits", &fakeBackend{}, "", false, api.BreakpointsHardware, ""},
		{"too many", manyStops{&fakeBackend{}}, "", false, api.BreakpointsMixed, "beyond"},
		{"refused", &fakeBackend{}, api.BreakpointsAuto, true, api.BreakpointsSoftware, "refused"},
		{"asked", &fakeBackend{}, api.BreakpointsSoftware, false, api.BreakpointsSoftware, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := newFakeGuest()
			f.NoHardware = tc.noHardware
			c, err := rsp.New(f.Dial(), &rsp.Options{})
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := gdbConfig(tc.b, nil, tc.kind)
			if err != nil {
				t.Fatal(err)
			}
			l, err := gdbstub.New(c, cfg)
			if err != nil {
				t.Fatal(err)
			}
			s := newSession(api.Info{}, l, tc.b)
			defer s.Close()
			st := s.Stats()
			if st.Breakpoints != tc.want || tc.note == "" && st.BreakpointNote != "" || !strings.Contains(st.BreakpointNote, tc.note) {
				t.Errorf("stats say %q breakpoints, note %q; want %q, a note with %q", st.Breakpoints, st.BreakpointNote, tc.want, tc.note)
			}
			if z0 := f.Count("Z0,"); (z0 > 0) != (tc.want != api.BreakpointsHardware) {
				t.Errorf("%d Z0 sent for %q breakpoints", z0, st.Breakpoints)
			}
		})
	}
	if _, err := gdbConfig(&fakeBackend{}, nil, "int3"); err == nil {
		t.Error("an unknown kind was taken")
	}
}
