package qemulayout

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/google/renameio/v2"

	"nitro/core/vmi/physmem"
)

// A Memo keeps one QEMU process's answers to gpa2hva from one attach to
// the next: each is a round trip through libvirt, two per RAM block, and a
// block's host address is fixed for the block's life. The answers are
// kept under the flat view and RAM blocks they were given with, and count
// only while both read the same, in the same process (its pid and start
// time name the file). A block unplugged and plugged back the same can
// come back elsewhere with the same texts: a caller whose ranges then
// fail to open Forgets the memo and learns the layout again.
type Memo struct {
	path    string
	Texts   string            `json:"texts"`   // hash of the flat view and RAM blocks
	Answers map[string]string `json:"answers"` // gpa2hva's text by command
	changed bool              // Ranges asked QEMU anew
	kept    bool              // Ranges took a kept answer
}

// maxMemoSize bounds a memo file: a few dozen answers of one line.
const maxMemoSize = 1 << 20

// LoadMemo returns the memo of QEMU process pid kept in dir, empty if
// there is none (or none that reads whole). dir "" keeps nothing.
func LoadMemo(dir string, pid int) *Memo {
	m := &Memo{}
	start, err := processStart(pid)
	if dir == "" || err != nil {
		return m
	}
	m.path = filepath.Join(dir, fmt.Sprintf("qemu-%d-%d.memo", pid, start))
	if raw, err := os.ReadFile(m.path); err == nil && len(raw) <= maxMemoSize {
		_ = json.Unmarshal(raw, m)
	}
	return m
}

// Ranges is the package's Ranges with gpa2hva answered from the memo
// where it can, and the new answers kept in it.
func (m *Memo) Ranges(hmp HMP) ([]physmem.Range, error) { return ranges(hmp, m) }

// Save writes the memo if Ranges learnt something, and removes the memos
// of QEMU processes that are gone.
func (m *Memo) Save() error {
	if m.path == "" || !m.changed {
		return nil
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(m.path), 0o755); err != nil {
		return err
	}
	if err := renameio.WriteFile(m.path, raw, 0o644); err != nil {
		return err
	}
	m.changed = false
	pruneMemos(filepath.Dir(m.path))
	return nil
}

// Answered says whether Ranges took an answer from what was kept.
func (m *Memo) Answered() bool { return m.kept }

// Forget drops what the memo holds, on disk too.
func (m *Memo) Forget() {
	m.Texts, m.Answers, m.changed, m.kept = "", nil, false, false
	if m.path != "" {
		_ = os.Remove(m.path)
	}
}

// asker answers gpa2hva from the memo when the flat view and RAM blocks
// read as they did when it was kept, and keeps what QEMU answers anew.
func (m *Memo) asker(hmp HMP, mtree, ramblock string) HMP {
	h := sha256.New()
	for _, s := range []string{mtree, ramblock} {
		h.Write([]byte(strconv.Itoa(len(s)) + ":" + s))
	}
	if texts := hex.EncodeToString(h.Sum(nil)); texts != m.Texts || m.Answers == nil {
		m.Texts, m.Answers = texts, map[string]string{}
	}
	return func(cmd string) (string, error) {
		if a, ok := m.Answers[cmd]; ok {
			m.kept = true
			return a, nil
		}
		a, err := hmp(cmd)
		if err == nil {
			m.Answers[cmd], m.changed = a, true
		}
		return a, err
	}
}

// processStart is when process pid started, in clock ticks after boot
// (proc(5) stat field 22): with the pid it names one process for good.
func processStart(pid int) (uint64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces and parentheses: fields count from
	// after its last ')'.
	i := strings.LastIndexByte(string(raw), ')')
	f := strings.Fields(string(raw[i+1:]))
	if i < 0 || len(f) < 20 {
		return 0, fmt.Errorf("/proc/%d/stat: too short", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// pruneMemos removes the memos of processes that no longer run.
func pruneMemos(dir string) {
	paths, _ := filepath.Glob(filepath.Join(dir, "qemu-*.memo"))
	for _, p := range paths {
		var pid int
		var start uint64
		if _, err := fmt.Sscanf(filepath.Base(p), "qemu-%d-%d.memo", &pid, &start); err != nil {
			continue
		}
		if now, err := processStart(pid); err != nil || now != start {
			_ = os.Remove(p)
		}
	}
}
