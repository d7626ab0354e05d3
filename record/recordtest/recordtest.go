// Package recordtest writes recordings for the tests of the packages that
// read them (replay, the TUI's playback).
package recordtest

import (
	"os"
	"path/filepath"
	"testing"

	"nitro/api"
	"nitro/record"
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
	for i := range evs {
		for _, sn := range snaps {
			if sn.Before == i {
				if err := w.Processes(record.Snapshot{Time: evs[i].Time, Procs: sn.Procs}); err != nil {
					tb.Fatal(err)
				}
			}
		}
		if err := w.Event(&evs[i]); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}
