package serve

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	gossh "golang.org/x/crypto/ssh"
)

// Role is what a key may do.
type Role int

const (
	// Viewer watches: it changes neither guest nor domain.
	Viewer Role = iota
	// Controller may also break, edit, continue, inject, pause, resume,
	// start and stop.
	Controller
)

func (r Role) String() string {
	if r == Controller {
		return "controller"
	}
	return "viewer"
}

// Person is who a key belongs to, as the key files say.
type Person struct {
	// Name is the key's comment in its file ("alice@laptop"); it may be "".
	Name string
	// Fingerprint is the key's SHA256 fingerprint, as ssh-keygen -l shows it.
	Fingerprint string
	Role        Role
}

// String names the person for other viewers: the comment, else the
// fingerprint. Key files are the operator's, but a comment is still
// quoted where it contains what a terminal would act on.
func (p Person) String() string {
	if p.Name == "" {
		return p.Fingerprint
	}
	if q := strconv.Quote(p.Name); q[1:len(q)-1] != p.Name {
		return q
	}
	return p.Name
}

// keyFiles are the authorized-keys files of the two roles. They are read
// at each login, as sshd reads authorized_keys: a key added to a file
// works at once, a key removed is refused at once.
type keyFiles struct {
	viewers, controllers string
}

// lookup finds the person of key; ok is false for a key in neither file.
func (k keyFiles) lookup(key gossh.PublicKey) (p Person, ok bool, err error) {
	fp := gossh.FingerprintSHA256(key)
	for _, f := range []struct {
		path string
		role Role
	}{{k.controllers, Controller}, {k.viewers, Viewer}} { // a key in both controls
		if f.path == "" {
			continue
		}
		keys, err := readAuthorizedKeys(f.path)
		if err != nil {
			return Person{}, false, err
		}
		for _, have := range keys {
			if bytes.Equal(have.key.Marshal(), key.Marshal()) {
				return Person{Name: have.comment, Fingerprint: fp, Role: f.role}, true, nil
			}
		}
	}
	return Person{}, false, nil
}

type authorizedKey struct {
	key     gossh.PublicKey
	comment string
}

// readAuthorizedKeys parses a file in sshd's authorized_keys form. Options
// in front of a key (from=, command=) are not honoured, so a line with any
// is refused rather than silently granted more than it says.
func readAuthorizedKeys(path string) ([]authorizedKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var keys []authorizedKey
	for len(data) > 0 {
		// It skips blank lines, comments and lines it cannot read, and
		// fails only when no key is left.
		key, comment, options, rest, err := gossh.ParseAuthorizedKey(data)
		if err != nil {
			break
		}
		if len(options) > 0 {
			return nil, fmt.Errorf("%s: a key has options (%q): nitro serve does not honour them", path, options[0])
		}
		keys = append(keys, authorizedKey{key, comment})
		data = rest
	}
	return keys, nil
}

// hostKey reads the server's private key from path, or, when there is
// none, makes an ed25519 key and writes it there, readable by its owner
// only. A key file others may read is refused, as sshd refuses one.
func hostKey(path string) (gossh.Signer, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		data, err = newHostKey(path)
	}
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("host key %s: mode %04o lets others read it (chmod 600 it)", path, st.Mode().Perm())
	}
	signer, err := gossh.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("host key %s: %w", path, err)
	}
	return signer, nil
}

func newHostKey(path string) ([]byte, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := gossh.MarshalPrivateKey(priv, "nitro serve host key")
	if err != nil {
		return nil, err
	}
	data := pem.EncodeToMemory(block)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	// O_EXCL: two servers starting at once must not both write a key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return nil, err
	}
	return data, nil
}
