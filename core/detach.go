package core

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"syscall"

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
// there was paused by someone else).
func Detach(ctx context.Context, uri, name string) error {
	conn, err := domain.Open(uri)
	if err != nil {
		return err
	}
	defer conn.Close()
	dom, err := conn.Lookup(name)
	if err != nil {
		return err
	}
	defer dom.Close()
	return detach(ctx, dom)
}

func detach(ctx context.Context, dom *domain.Domain) error {
	sock := filepath.Join(gdbDir(dom.Name()), "gdb.sock")
	err := gdbstub.Release(ctx, sock)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ECONNREFUSED):
		// No gdbstub of ours: nothing to detach from.
	default:
		// QEMU serves one client at a time: a nitro still attached keeps
		// the stub from answering.
		return fmt.Errorf("detaching from %s (is another nitro attached?): %w", dom.Name(), err)
	}
	return nil
}
