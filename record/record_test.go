package record

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"nitro/api"
	"nitro/ui/uitest"
)

var meta = Meta{Domain: "nitro-lab", OS: "linux", Kernel: "Linux 6.1.0-28-amd64", Listener: "gdbstub",
	Start: uitest.Epoch, Syscalls: []string{"openat", "read"}, Filter: "--pid 42"}

// stream is uitest.Stream with what it lacks: out-parameters that differ
// at the exit, a seq gap, 32-bit and injected calls, a call that never
// returns, an unmatched exit, and a process table every 500 events.
func stream(n int) ([]api.Syscall, []Snapshot) {
	evs := uitest.Stream(1, n)
	gap := uint64(0)
	for i := range evs {
		sc := &evs[i]
		switch i % 97 {
		case 10:
			sc.ABI = api.I386
		case 11:
			gap += 5 // the seqs after it follow on from there
		case 20:
			if sc.IsExit() {
				sc.Args = append([]api.Arg(nil), sc.Args...)
				sc.Args[0].Text = "changed"
				sc.Injected = true
			}
		case 30:
			sc.Direction, sc.Name, sc.RetText, sc.Args = api.Enter, "exit_group", "?", []api.Arg{{Raw: 0, Text: "0"}}
			sc.Ret, sc.Errno = 0, ""
		case 31:
			sc.Matched = false
		}
		sc.Seq += gap
	}
	var snaps []Snapshot
	for i := 0; i < n; i += 500 {
		procs := append([]api.Process(nil), uitest.Procs...)
		procs = append(procs, api.Process{PID: 1000 + i, TID: 1000 + i, PPID: 1, Comm: fmt.Sprint("w", i), UID: 1000, Task: 0xffff888000000000 + uint64(i)})
		snaps = append(snaps, Snapshot{Time: evs[i].Time.Add(-time.Microsecond), Procs: procs, Before: i})
	}
	return evs, snaps
}

// write records evs with snaps (each before event Before), flushing a
// block every flushEvery events (0: as the writer decides); close adds the
// index.
func write(t testing.TB, evs []api.Syscall, snaps []Snapshot, flushEvery int, close bool) []byte {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, meta)
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		for len(snaps) > 0 && snaps[0].Before == i {
			if err := w.Processes(snaps[0]); err != nil {
				t.Fatal(err)
			}
			snaps = snaps[1:]
		}
		if err := w.Event(&evs[i]); err != nil {
			t.Fatal(err)
		}
		if flushEvery > 0 && (i+1)%flushEvery == 0 {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if close {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	} else if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func open(t testing.TB, b []byte) *Reader {
	t.Helper()
	r, err := NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// readAll decodes every block: the events, and each snapshot with Before
// counted from the recording's start.
func readAll(t testing.TB, r *Reader) ([]api.Syscall, []Snapshot) {
	t.Helper()
	var evs []api.Syscall
	var snaps []Snapshot
	for i := range r.Blocks {
		b, err := r.Block(i)
		if err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		for _, s := range b.Snapshots {
			s.Before += len(evs)
			snaps = append(snaps, s)
		}
		evs = append(evs, b.Events...)
	}
	return evs, snaps
}

// plain drops what a recording does not keep of a time: its location and
// monotonic reading.
func plain(evs []api.Syscall) []api.Syscall {
	out := append([]api.Syscall(nil), evs...)
	for i := range out {
		out[i].Time = time.Unix(0, out[i].Time.UnixNano())
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	evs, snaps := stream(20000)
	outs := 0
	for i := range evs {
		if sc := &evs[i]; len(sc.Args) > 1 && (sc.Name == "read" || sc.Name == "fstat") {
			sc.Args = slices.Clone(sc.Args)
			sc.Args[1].Out = true // the call writes its second argument
			outs++
		}
	}
	if outs == 0 {
		t.Fatal("the stream has no call that writes an argument")
	}
	b := write(t, evs, snaps, 0, true)
	r := open(t, b)
	if r.Damage != nil {
		t.Fatalf("damage: %v", r.Damage)
	}
	if !reflect.DeepEqual(r.Meta.Syscalls, meta.Syscalls) || r.Meta.Domain != meta.Domain || r.Meta.Kernel != meta.Kernel ||
		r.Meta.OS != meta.OS || r.Meta.Listener != meta.Listener || r.Meta.Filter != meta.Filter || !r.Meta.Start.Equal(meta.Start) {
		t.Errorf("meta = %+v, want %+v", r.Meta, meta)
	}
	n := 0
	for _, b := range r.Blocks {
		n += b.Events
	}
	if len(r.Blocks) < 4 || n != len(evs) {
		t.Fatalf("%d blocks, %d events; want several blocks of %d events", len(r.Blocks), n, len(evs))
	}
	got, gotSnaps := readAll(t, r)
	want := plain(evs)
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("event %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	// Each block opens with the latest snapshot again; the others are
	// the ones written, in place.
	var written []Snapshot
	for _, s := range gotSnaps {
		if len(written) == 0 || !s.Time.Equal(written[len(written)-1].Time) {
			written = append(written, s)
		}
	}
	if len(written) != len(snaps) {
		t.Fatalf("%d snapshots, want %d", len(written), len(snaps))
	}
	for i, s := range written {
		if s.Before != snaps[i].Before || !s.Time.Equal(snaps[i].Time) || !reflect.DeepEqual(s.Procs, snaps[i].Procs) {
			t.Fatalf("snapshot %d: got before %d %v, want before %d %v", i, s.Before, s.Procs, snaps[i].Before, snaps[i].Procs)
		}
	}
}

func TestEveryBlockOpensWithItsProcesses(t *testing.T) {
	evs, snaps := stream(20000)
	r := open(t, write(t, evs, snaps, 0, true))
	for i := range r.Blocks {
		b, err := r.Block(i)
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Snapshots) == 0 || b.Snapshots[0].Before != 0 {
			t.Errorf("block %d does not open with a snapshot", i)
		}
	}
}

// TestTruncated cuts a recording at every byte of its last blocks, index
// and trailer: it opens up to its last whole block, saying it is truncated.
func TestTruncated(t *testing.T) {
	evs, snaps := stream(600)
	full := write(t, evs, snaps, 100, true)
	r := open(t, full)
	if len(r.Blocks) != 6 {
		t.Fatalf("%d blocks, want 6", len(r.Blocks))
	}
	ends := make([]int64, len(r.Blocks))
	for i := range r.Blocks {
		if i+1 < len(r.Blocks) {
			ends[i] = r.Blocks[i+1].Offset
		}
	}
	ends[len(ends)-1] = int64(len(full)) - trailerLen - headLen - int64(indexEntry*len(r.Blocks))
	for cut := r.Blocks[3].Offset; cut < int64(len(full)); cut++ {
		r, err := NewReader(bytes.NewReader(full[:cut]), cut)
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		if !errors.Is(r.Damage, ErrTruncated) {
			t.Fatalf("cut at %d: damage %v", cut, r.Damage)
		}
		whole := 0
		for _, e := range ends {
			if e <= cut {
				whole++
			}
		}
		if len(r.Blocks) != whole {
			t.Fatalf("cut at %d: %d blocks, want %d", cut, len(r.Blocks), whole)
		}
		got, _ := readAll(t, r)
		if n := 100 * whole; len(got) != n || !reflect.DeepEqual(got, plain(evs[:n])) {
			t.Fatalf("cut at %d: %d events differ from the first %d recorded", cut, len(got), n)
		}
	}
}

func TestIndexRebuilt(t *testing.T) {
	evs, snaps := stream(3000)
	indexed := open(t, write(t, evs, snaps, 250, true))
	unfinished := write(t, evs, snaps, 250, false)
	r := open(t, unfinished)
	if !errors.Is(r.Damage, ErrTruncated) {
		t.Errorf("damage = %v, want truncated", r.Damage)
	}
	if !reflect.DeepEqual(r.Blocks, indexed.Blocks) {
		t.Errorf("scanned blocks %+v\nwant the index's %+v", r.Blocks, indexed.Blocks)
	}
	// A damaged index is not trusted: the blocks are scanned instead.
	full := write(t, evs, snaps, 250, true)
	full[len(full)-trailerLen-5] ^= 0xff
	r = open(t, full)
	if !reflect.DeepEqual(r.Blocks, indexed.Blocks) {
		t.Errorf("with a bad index: blocks %+v", r.Blocks)
	}
}

func TestSeekDecodesOneBlock(t *testing.T) {
	evs, snaps := stream(200_000)
	r := open(t, write(t, evs, snaps, 0, true))
	mid := evs[len(evs)/2]
	i := r.FindSeq(mid.Seq)
	b, err := r.Block(i)
	if err != nil {
		t.Fatal(err)
	}
	if r.decoded != 1 {
		t.Errorf("%d blocks decoded to reach the middle", r.decoded)
	}
	found := false
	for _, sc := range b.Events {
		found = found || sc.Seq == mid.Seq
	}
	if !found {
		t.Errorf("block %d lacks seq %d", i, mid.Seq)
	}
	if r.FindSeq(evs[len(evs)-1].Seq+1) != len(r.Blocks) {
		t.Error("a seq past the end has a block")
	}
}

func TestHostile(t *testing.T) {
	evs, snaps := stream(300)
	good := write(t, evs, snaps, 100, true)
	for _, c := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrNotRecording},
		{"not a recording", []byte("#!/bin/sh\necho hello, world\n"), ErrNotRecording},
		{"version 3", func() []byte { b := bytes.Clone(good); b[8] = Version + 1; return b }(), ErrVersion},
		{"huge header", func() []byte { b := bytes.Clone(good); b[15] = 0x7f; return b }(), ErrCorrupt},
		{"header cut", good[:20], ErrTruncated},
		{"header damaged", func() []byte { b := bytes.Clone(good); b[fileHeadLen+2] ^= 1; return b }(), ErrCorrupt},
	} {
		if _, err := NewReader(bytes.NewReader(c.b), int64(len(c.b))); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// A huge length in a block's head: the scan stops there.
	r := open(t, good)
	b := bytes.Clone(good[:len(good)-trailerLen-headLen-indexEntry*len(r.Blocks)])
	b[r.Blocks[1].Offset+6] = 0xff
	if r = open(t, b); len(r.Blocks) != 1 || !errors.Is(r.Damage, ErrTruncated) {
		t.Errorf("huge block: %d blocks, %v", len(r.Blocks), r.Damage)
	}
}

// FuzzReader opens whatever it is given, and decodes every block it finds:
// errors, never a panic or an allocation beyond the bounds.
func FuzzReader(f *testing.F) {
	evs, snaps := stream(300)
	f.Add(write(f, evs, snaps, 100, true))
	f.Add(write(f, evs[:150], snaps, 0, false))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for i := range r.Blocks {
			_, _ = r.Block(i)
		}
	})
}

// FuzzBlock decodes hostile raw payloads, past the checksum that guards
// them in a file.
func FuzzBlock(f *testing.F) {
	evs, snaps := stream(200)
	e := newEncoder()
	e.reset(evs[0].Seq, evs[0].Time.UnixNano())
	e.snapshot(&snaps[0])
	for i := range evs {
		e.event(&evs[i])
	}
	f.Add(e.b, uint32(len(evs)), evs[0].Seq, evs[len(evs)-1].Seq, evs[0].Time.UnixNano())
	f.Fuzz(func(t *testing.T, raw []byte, n uint32, first, last uint64, at int64) {
		blk, err := decodeBlock(raw, &frame{events: n, firstSeq: first, lastSeq: last, firstTime: at})
		if err == nil && len(blk.Events) != int(n) {
			t.Fatalf("%d events, frame says %d", len(blk.Events), n)
		}
	})
}
