package ui

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"nitro/api"
	"nitro/record"
	"nitro/ui/uitest"
)

// recorded opens the one recording in the current directory and returns
// its calls, failing on a file not closed properly.
func recorded(t *testing.T) []api.Syscall {
	t.Helper()
	paths, _ := filepath.Glob("lab-*.nitro")
	if len(paths) != 1 {
		t.Fatalf("recordings %v, want one", paths)
	}
	f, err := record.Open(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Damage != nil || f.Meta.Domain != "lab" || f.Meta.Kernel != "Linux 6.1.0-28-amd64" {
		t.Errorf("damage %v, header %+v", f.Damage, f.Meta)
	}
	var got []api.Syscall
	for i := range f.Blocks {
		blk, err := f.Block(i)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, blk.Events...)
	}
	return got
}

// sameTimes is evs with their times as a recording gives them back: the
// same instants, in the local zone.
func sameTimes(evs []api.Syscall) []api.Syscall {
	for i := range evs {
		evs[i].Time = time.Unix(0, evs[i].Time.UnixNano())
	}
	return evs
}

// TestRecordKey: the record key writes the live session's calls from then
// on to a recording in the current directory, until pressed again.
func TestRecordKey(t *testing.T) {
	t.Chdir(t.TempDir())
	s := uitest.NewSession()
	d := drive(t, s)
	s.Send(uitest.Stream(1, 10)) // before the recording: not in it
	d.pumpTo(10)
	d.keys("R")
	if bar := d.m.View(); !strings.Contains(bar, " lab | REC lab-") || !strings.Contains(d.m.note, "(R stops)") {
		t.Errorf("recording, the screen says:\n%s", bar)
	}
	s.Send(uitest.Stream(11, 30))
	d.keys("R")
	d.do(d.run(d.m.att.rec.waitEnd(d.m.att.ctx)))
	if !strings.Contains(d.m.note, "recorded 30 calls in lab-") || strings.Contains(d.m.View(), "REC") {
		t.Errorf("note %q after the recording stopped:\n%s", d.m.note, d.m.View())
	}
	if got, want := recorded(t), sameTimes(uitest.Stream(11, 30)); !reflect.DeepEqual(got, want) {
		t.Errorf("recorded %d calls:\n%+v\nwant %d:\n%+v", len(got), got, len(want), want)
	}
}

// TestQuitEndsTheRecording: quitting while recording closes the recording
// whole, with the calls delivered before.
func TestQuitEndsTheRecording(t *testing.T) {
	t.Chdir(t.TempDir())
	s := uitest.NewSession()
	d := drive(t, s)
	d.keys("R")
	s.Send(uitest.Stream(1, 12))
	if err := d.m.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := recorded(t), sameTimes(uitest.Stream(1, 12)); !reflect.DeepEqual(got, want) {
		t.Errorf("recorded %d calls, want %d", len(got), len(want))
	}
}

// TestNoRecordingOfAReplay: a replay is a recording already.
func TestNoRecordingOfAReplay(t *testing.T) {
	d := replayed(t, 0)
	d.keys("R")
	if !strings.Contains(d.m.note, "a recording already") || d.m.att.rec != nil {
		t.Errorf("R in a replay: note %q", d.m.note)
	}
}
