// Package replay plays a recording (package record) as another source of
// the API: a Hypervisor with the one domain recorded, whose Session
// delivers the recorded calls, in order, at the speed chosen, with the
// process table as of the playback's position. The faces cannot tell it
// from a live guest, except by Info.Replay and by its api.Playback, which
// moves the playback: steps, jumps to a seq, a time or the next call a
// filter keeps, and speed. A break stops the playback at the next matching
// call and Held delivers it, Pause and Resume pause the playback, and what
// would change a guest (edits, injections, run control) is refused with
// ErrRecording.
//
// One goroutine, Run's, plays the recording and owns the file: a move is a
// request it serves wherever it waits (pacing, paused, at a break, handing
// a batch over, at the end).
//
// Like the faces, it uses package api only, never core.
package replay
