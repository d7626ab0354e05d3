package api

import (
	"context"
	"errors"
	"time"
)

// ErrNoMatch: SeekMatch found no call after the position that matches.
var ErrNoMatch = errors.New("no call after the position matches")

// Playback is what a session that plays a recording offers besides
// Session: moving through it. A live session does not implement it; a face
// finds it with a type assertion.
//
// A move (Seek, SeekTime, SeekMatch, a Step back) pauses the playback at
// the call it reaches, the new position, and starts every subscription
// afresh: from then on C returns a new channel, whose first batch is the
// calls up to and including the position (at most the subscription's
// limit, as a reader that had watched from the start would keep them),
// then the calls played from there. The channel C returned before gets
// nothing more and is never closed, so a reader drops it at once. The
// process table (Processes) is then as of the position, and a held call
// is let go. A move fails, changing nothing, when the recording cannot be
// read there, or with ErrNoMatch.
type Playback interface {
	// Position is where the playback is; it does no I/O.
	Position() Position
	// Seek moves to the call of sequence number seq, or the first after
	// it, or the last call when there is none after it.
	Seek(ctx context.Context, seq uint64) error
	// SeekTime moves to the first call recorded at t or after it, or the
	// last call.
	SeekTime(ctx context.Context, t time.Time) error
	// SeekMatch moves to the first call after the position that match
	// keeps. match runs on the playback's goroutine, not the caller's.
	SeekMatch(ctx context.Context, match func(*Syscall) bool) error
	// Step plays n calls at once and pauses (a held call is let go: it is
	// the first), or, for n < 0, moves back -n calls.
	Step(ctx context.Context, n int) error
	// SetSpeed sets the playback speed: 1 real time, N times faster, 0 as
	// fast as the readers take the calls.
	SetSpeed(speed float64) error
}

// Position is where a playback is, in a recording of its length.
type Position struct {
	Seq  uint64    // the call last played; 0 before the first
	Time time.Time // when it was recorded; zero before the first
	// Calls, First and Last are the recording's number of calls and its
	// first and last calls' sequence numbers; Start and End, when those
	// were recorded.
	Calls       uint64
	First, Last uint64
	Start, End  time.Time
	Speed       float64 // as SetSpeed takes it
}
