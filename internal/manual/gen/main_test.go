package main

import (
	"reflect"
	"strings"
	"testing"
)

// ERRORS as man renders it (dedented by sections): codes at the margin,
// text after them or indented below, several codes on one entry, and a line
// at the margin that is no entry ending the one before.
func TestErrorEntries(t *testing.T) {
	text := `open() can fail with the following errors:

EBADF  (openat()) pathname is relative but dirfd is neither AT_FDCWD nor a valid file descriptor.

EAGAIN or EWOULDBLOCK
       The file descriptor fd refers to a socket.

       It was marked nonblocking.

The following additional errors can occur for openat():
       not an entry`
	got := errorEntries(strings.Split(text, "\n"))
	want := []errEntry{
		{[]string{"EBADF"}, "(openat()) pathname is relative but dirfd is neither AT_FDCWD nor a valid file descriptor."},
		{[]string{"EAGAIN", "EWOULDBLOCK"}, "The file descriptor fd refers to a socket. It was marked nonblocking."},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errorEntries:\n got %q\nwant %q", got, want)
	}
}

func TestBudget(t *testing.T) {
	paras := []string{"One. Two.", "Three.", "Four, a long one."}
	for _, c := range []struct {
		n    int
		want string
	}{
		{100, "One. Two.\n\nThree.\n\nFour, a long one."},
		{15, "One. Two.\n\nThree."},
		{5, "One."},           // a first paragraph too long: its first sentences
		{3, "One."[:3] + "…"}, // a first sentence too long: cut
	} {
		if got := budget(paras, c.n); got != c.want {
			t.Errorf("budget(%d) = %q, want %q", c.n, got, c.want)
		}
	}
	if got := sentences("a long first sentence. Then", 12); got != "a long …" {
		t.Errorf("sentences cut at a word: %q", got)
	}
}
