// Package replay plays a recording (package record) as another source of
// the API: a Hypervisor with the one domain recorded, whose Session
// delivers the recorded calls, in order, at the speed chosen, with the
// process table as of the playback's position. The faces cannot tell it
// from a live guest, except by Info.Replay: a break stops the playback at
// the next matching call and Held delivers it, Pause and Resume pause the
// playback, and what would change a guest (edits, injections, run
// control) is refused with ErrRecording.
//
// Like the faces, it uses package api only, never core.
package replay
