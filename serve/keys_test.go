package serve

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	ann, teacher := newPerson(t, "ann"), newPerson(t, "teach\x1b[2Jer")
	viewers, controllers := filepath.Join(dir, "viewers"), filepath.Join(dir, "controllers")
	write := func(path, text string) {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(viewers, "# students\n\n"+ann.line+"not a key at all\n"+teacher.line)
	write(controllers, teacher.line)
	files := keyFiles{viewers: viewers, controllers: controllers}

	p, ok, err := files.lookup(ann.signer.PublicKey())
	if err != nil || !ok || p.Role != Viewer || p.Name != "ann" || !strings.HasPrefix(p.Fingerprint, "SHA256:") {
		t.Errorf("ann: %+v %v %v", p, ok, err)
	}
	p, ok, err = files.lookup(teacher.signer.PublicKey())
	if err != nil || !ok || p.Role != Controller {
		t.Errorf("a key in both files: %+v %v %v, want a controller", p, ok, err)
	}
	if s := p.String(); strings.ContainsRune(s, '\x1b') {
		t.Errorf("a comment's escape reaches the screens: %q", s)
	}
	// Removed from the file: refused at once.
	write(viewers, teacher.line)
	if _, ok, _ := files.lookup(ann.signer.PublicKey()); ok {
		t.Error("a key removed from the file still logs in")
	}
	// A key with options would be granted more than it says: refused.
	write(viewers, `from="10.0.0.1" `+ann.line)
	if _, _, err := files.lookup(ann.signer.PublicKey()); err == nil {
		t.Error("a key with options was taken")
	}
}
