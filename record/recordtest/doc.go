// Package recordtest writes recordings for the tests of the packages that
// read them (replay, the TUI's playback).
package recordtest
