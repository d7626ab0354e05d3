package commands

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"syscall"
	"testing"
	"time"
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

// fullFile takes room bytes, then fails as a full filesystem does.
type fullFile struct {
	data []byte
	room int
}

func (f *fullFile) Write(p []byte) (int, error) {
	n := min(len(p), f.room-len(f.data))
	f.data = append(f.data, p[:n]...)
	if n < len(p) {
		return n, syscall.ENOSPC
	}
	return n, nil
}

func (f *fullFile) Truncate(size int64) error {
	f.data = f.data[:size]
	return nil
}

// TestBatchWriterFullFile: a write that fills the filesystem part way
// through a batch leaves the file at its last whole batch of lines.
func TestBatchWriterFullFile(t *testing.T) {
	f := &fullFile{room: 25}
	w := &batchWriter{ctx: context.Background(), dst: f}
	io.WriteString(w, "line one\nline two\n")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "line three\n")
	if err := w.Flush(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Flush on a full file: %v, want ENOSPC", err)
	}
	if string(f.data) != "line one\nline two\n" {
		t.Errorf("the file holds %q", f.data)
	}
}

// stuckWriter blocks every write until the test ends, as a pipe whose
// reader stopped does.
type stuckWriter struct{ release chan struct{} }

func (s stuckWriter) Write(p []byte) (int, error) {
	<-s.release
	return len(p), nil
}

// TestBatchWriterGivesUpWhenStopped: a write blocked on a reader that
// stopped reading does not keep trace from ending once it is told to.
func TestBatchWriterGivesUpWhenStopped(t *testing.T) {
	stuck := stuckWriter{make(chan struct{})}
	defer close(stuck.release)
	ctx, cancel := context.WithCancel(context.Background())
	w := &batchWriter{ctx: ctx, dst: stuck}
	io.WriteString(w, "line one\n")
	flushed := make(chan error, 1)
	go func() { flushed <- w.Flush() }()
	cancel()
	select {
	case err := <-flushed:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Flush after the stop: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Flush still blocked 10 s after the stop")
	}
	io.WriteString(w, "line two\n")
	if err := w.Flush(); !errors.Is(err, context.Canceled) {
		t.Errorf("a later Flush: %v, want the same refusal", err)
	}
}

// TestBatchWriterFinishesWhenStopped: once trace is told to stop, a reader
// that still reads gets the last lines; the stop is no write error.
func TestBatchWriterFinishesWhenStopped(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	w := &batchWriter{ctx: ctx, dst: &out}
	for range 100 {
		io.WriteString(w, "line\n")
		if err := w.Flush(); err != nil {
			t.Fatalf("Flush to a reader that reads, after the stop: %v", err)
		}
	}
	if out.Len() != 500 {
		t.Errorf("%d bytes written, want 500", out.Len())
	}
}
