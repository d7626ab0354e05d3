package core

import (
	"errors"
	"fmt"
	"nitro/api"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// ErrAttached means another nitro is attached to the domain.
var ErrAttached = api.ErrAttached

// lockDomain takes the attach lock of domain name: one nitro per domain,
// since QEMU's gdbstub serves one client. The kernel drops the lock when
// this process ends, however it ends.
func lockDomain(name string) (*os.File, error) {
	if err := os.MkdirAll(runDir, 0o711); err != nil {
		return nil, fmt.Errorf("creating %s: %w", runDir, err)
	}
	return lockFile(filepath.Join(runDir, name+".lock"), name)
}

// lockGrace is how long lockDomainSoon waits for another holder.
const lockGrace = time.Second

// lockDomainSoon takes the attach lock, waiting lockGrace for it: a nitro
// that just died may hold it for a moment while the kernel closes its
// files, and its guard holds it while it detaches.
func lockDomainSoon(name string) (*os.File, error) {
	lock, err := lockDomain(name)
	for wait := time.Now(); errors.Is(err, ErrAttached) && time.Since(wait) < lockGrace; {
		time.Sleep(20 * time.Millisecond)
		lock, err = lockDomain(name)
	}
	return lock, err
}

// lockFile takes the attach lock in file path for domain name. A symlink
// there is refused: root would create or lock whatever it points to.
func lockFile(path, name string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening attach lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s", ErrAttached, name)
		}
		return nil, fmt.Errorf("taking attach lock: %w", err)
	}
	return f, nil
}
