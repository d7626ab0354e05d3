package commands

import (
	"slices"
	"testing"
)

func TestSyscallList(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
		bad  bool
	}{
		{"", nil, false},
		{"openat", []string{"openat"}, false},
		{"openat, write ,mmap2", []string{"openat", "write", "mmap2"}, false},
		{" , ", nil, true},
	} {
		got, err := syscallList(c.in)
		if (err != nil) != c.bad || !slices.Equal(got, c.want) {
			t.Errorf("syscallList(%q) = %q, %v", c.in, got, err)
		}
	}
}
