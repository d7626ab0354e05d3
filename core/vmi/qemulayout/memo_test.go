package qemulayout

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// counting answers from the lab transcript, counting gpa2hva questions;
// mtree, when not empty, stands for another flat view.
func counting(t *testing.T, asked *int, mtree string) HMP {
	answer := fakeHMP(t, "lab-i440fx-256m.txt", nil)
	return func(cmd string) (string, error) {
		if strings.HasPrefix(cmd, "gpa2hva ") {
			*asked++
		}
		a, err := answer(cmd)
		if cmd == "info mtree -f" && mtree != "" {
			a = mtree
		}
		return a, err
	}
}

// TestMemo: a second attach to the same QEMU process asks no gpa2hva and
// gets the same ranges; another flat view, or a forgotten memo, asks anew.
func TestMemo(t *testing.T) {
	dir := t.TempDir()
	want, err := Ranges(fakeHMP(t, "lab-i440fx-256m.txt", nil))
	if err != nil {
		t.Fatal(err)
	}
	var asked int
	m := LoadMemo(dir, os.Getpid())
	if rs, err := m.Ranges(counting(t, &asked, "")); err != nil || fmt.Sprint(rs) != fmt.Sprint(want) || asked != 4 || m.Answered() {
		t.Fatalf("first attach: %v, %d asked, answered %v", err, asked, m.Answered())
	}
	if err := m.Save(); err != nil {
		t.Fatal(err)
	}

	asked = 0
	m = LoadMemo(dir, os.Getpid())
	if rs, err := m.Ranges(counting(t, &asked, "")); err != nil || fmt.Sprint(rs) != fmt.Sprint(want) || asked != 0 || !m.Answered() {
		t.Fatalf("second attach: %v, %d asked, answered %v", err, asked, m.Answered())
	}

	// The same ranges in a flat view that reads otherwise: asked again.
	mtree := strings.Replace(transcript(t, "lab-i440fx-256m.txt")["info mtree -f"], "\n", "\n\n", 1)
	asked = 0
	if _, err := LoadMemo(dir, os.Getpid()).Ranges(counting(t, &asked, mtree)); err != nil || asked != 4 {
		t.Errorf("another flat view: %v, %d asked, want 4", err, asked)
	}

	m = LoadMemo(dir, os.Getpid())
	m.Forget()
	asked = 0
	if _, err := LoadMemo(dir, os.Getpid()).Ranges(counting(t, &asked, "")); err != nil || asked != 4 {
		t.Errorf("after Forget: %v, %d asked, want 4", err, asked)
	}
}

// TestMemoPrune: saving a memo removes those of processes that are gone
// or whose pid another process now has; damaged memos are not used.
func TestMemoPrune(t *testing.T) {
	dir := t.TempDir()
	start, err := processStart(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	gone := filepath.Join(dir, fmt.Sprintf("qemu-%d-%d.memo", os.Getpid(), start+1))
	dead := filepath.Join(dir, "qemu-999999999-1.memo")
	other := filepath.Join(dir, "other.json")
	for _, p := range []string{gone, dead, other} {
		if err := os.WriteFile(p, []byte("{"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	own := filepath.Join(dir, fmt.Sprintf("qemu-%d-%d.memo", os.Getpid(), start))
	if err := os.WriteFile(own, []byte(`{"texts": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var asked int
	m := LoadMemo(dir, os.Getpid())
	if _, err := m.Ranges(counting(t, &asked, "")); err != nil || asked != 4 {
		t.Fatalf("a damaged memo: %v, %d asked", err, asked)
	}
	if err := m.Save(); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	if want := []string{other, own}; fmt.Sprint(left) != fmt.Sprint(want) {
		t.Errorf("left %v, want %v", left, want)
	}
}
