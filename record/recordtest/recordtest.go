package recordtest

import (
	"os"
	"path/filepath"
	"testing"

	"nitro/api"
	"nitro/record"
	"nitro/ui/uitest"
)

// Snapshot is a process table recorded before call Before of a recording.
type Snapshot struct {
	Before int
	Procs  []api.Process
}

// Write records evs, with the snapshots given, to a file in a temporary
// directory and returns its path.
func Write(tb testing.TB, meta record.Meta, evs []api.Syscall, snaps ...Snapshot) string {
	tb.Helper()
	return write(tb, meta, func(w *record.Writer) error {
		for i := range evs {
			for _, sn := range snaps {
				if sn.Before == i {
					if err := w.Processes(record.Snapshot{Time: evs[i].Time, Procs: sn.Procs}); err != nil {
						return err
					}
				}
			}
			if err := w.Event(&evs[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// WriteStream records n events of uitest.Stream from seq 1, with
// uitest.Procs as the process table every thousand events (a recorder
// takes it every second, and Stream's calls are a millisecond apart), to a
// file in a temporary directory, and returns its path. It makes the stream
// a slice at a time, so that a million events take little memory.
func WriteStream(tb testing.TB, meta record.Meta, n int) string {
	tb.Helper()
	const chunk = 10_000 // a multiple of the snapshots' spacing
	return write(tb, meta, func(w *record.Writer) error {
		for first := 1; first <= n; first += chunk {
			evs := uitest.Stream(uint64(first), min(chunk, n-first+1))
			for i := range evs {
				if i%1000 == 0 {
					if err := w.Processes(record.Snapshot{Time: evs[i].Time, Procs: uitest.Procs}); err != nil {
						return err
					}
				}
				if err := w.Event(&evs[i]); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// write makes a recording whose calls and snapshots add writes, in a
// temporary directory, and returns its path.
func write(tb testing.TB, meta record.Meta, add func(*record.Writer) error) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "rec.nitro")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	w, err := record.NewWriter(f, meta)
	if err != nil {
		tb.Fatal(err)
	}
	if err := add(w); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}
