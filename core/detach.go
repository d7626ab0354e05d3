package core

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"nitro/core/kvm/domain"
	"nitro/core/kvm/gdbstub"
)

// runDir holds one root-only directory per attached domain, with the
// gdbstub socket QEMU listens on.
const runDir = "/run/nitro"

func gdbDir(name string) string { return filepath.Join(runDir, name) }

// Detach frees a domain that a nitro may have left behind, whatever happened
// to that nitro: it detaches from the domain's gdbstub, which makes QEMU drop
// every breakpoint and run the VM. A domain with nothing to undo is left as
// it is (nitro never pauses a domain through libvirt, so a domain paused
// there was paused by someone else). A domain another nitro is attached to
// is left alone, with ErrAttached.
func Detach(ctx context.Context, uri, name string) error {
	if err := checkDomainName(name); err != nil {
		return err
	}
	lock, err := lockDomainSoon(name)
	if err != nil {
		return err
	}
	defer lock.Close()
	dom, err := domain.OpenDomain(uri, name)
	if err != nil {
		return err
	}
	defer dom.Close()
	return detach(ctx, dom)
}

// detach releases the domain's stub; the caller holds the attach lock, so
// no live nitro uses the stub. When the stub does not answer (QEMU dropped
// it, or it is gone), its breakpoints may still be armed in QEMU, ready to
// stop the VM for no debugger: a new stub is opened to detach through.
func detach(ctx context.Context, dom *domain.Domain) (err error) {
	pid, err := dom.QEMUPid()
	if err != nil {
		return err
	}
	// QEMU's detach runs the VM: one someone paused is paused again at
	// once (it runs for that moment), since only a detach clears the
	// breakpoints a dead nitro left.
	paused, err := dom.PausedByUser()
	if err != nil {
		return err
	}
	if paused {
		defer func() {
			if err == nil {
				err = repause(dom)
			}
		}()
	}
	rerr := gdbstub.Release(ctx, filepath.Join(gdbDir(dom.Name()), "gdb.sock"), pid)
	if rerr == nil {
		return nil
	}
	sock, err := dom.StartGDBServer(gdbDir(dom.Name()))
	if err != nil {
		return errors.Join(rerr, err)
	}
	if err := gdbstub.Release(ctx, sock, pid); err != nil {
		return fmt.Errorf("detaching from %s: %w", dom.Name(), err)
	}
	return nil
}

// repause pauses dom again once libvirt has seen the detach run it: a
// suspend before that would find it paused already and do nothing.
func repause(dom *domain.Domain) error {
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if paused, err := dom.PausedByUser(); err != nil || !paused {
			break
		}
	}
	return dom.Suspend()
}
