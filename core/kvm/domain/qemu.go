package domain

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// QEMUPid finds the host process that runs the domain: QEMU reports its vCPU
// threads' host ids over QMP, and a thread's Tgid is its process. This works
// on the libvirt host itself only; the pid means nothing elsewhere.
func (d *Domain) QEMUPid() (int, error) {
	out, err := d.QMP(`{"execute":"query-cpus-fast"}`)
	if err != nil {
		return 0, err
	}
	var reply struct {
		Return []struct {
			ThreadID int `json:"thread-id"`
		} `json:"return"`
	}
	if err := json.Unmarshal([]byte(out), &reply); err != nil {
		return 0, fmt.Errorf("parsing query-cpus-fast reply of %q: %w", d.name, err)
	}
	if len(reply.Return) == 0 || reply.Return[0].ThreadID <= 0 {
		return 0, fmt.Errorf("QEMU of %q reported no vCPU threads", d.name)
	}
	tid := reply.Return[0].ThreadID
	pid, err := tgid(tid)
	if err != nil {
		return 0, fmt.Errorf("finding the QEMU process of %q (vCPU thread %d): %w", d.name, tid, err)
	}
	return pid, nil
}

// tgid reads the thread group (process) id of a host thread.
func tgid(tid int) (int, error) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(tid), "status"))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Tgid:"); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, errors.New("no Tgid line")
}

// StartGDBServer makes the domain's QEMU listen for one GDB client on a unix
// socket in dir and returns the socket's path. The socket is never a TCP
// port: on a shared host anyone could stop the guest through one. Once QEMU
// has made the socket, dir (created 0700) is handed to root, so only root can
// reach it. The parent of dir is made 0711. A stub this domain already had
// is replaced: its client, if any, is cut off.
func (d *Domain) StartGDBServer(dir string) (sock string, err error) {
	pid, err := d.QEMUPid()
	if err != nil {
		return "", err
	}
	uid, gid, err := owner(pid)
	if err != nil {
		return "", fmt.Errorf("reading owner of QEMU process %d: %w", pid, err)
	}
	// QEMU must be able to pass through the parent, never to list it.
	if err := os.MkdirAll(filepath.Dir(dir), 0o711); err != nil {
		return "", fmt.Errorf("creating gdbstub directory: %w", err)
	}
	if err := os.Chmod(filepath.Dir(dir), 0o711); err != nil {
		return "", fmt.Errorf("creating gdbstub directory: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("creating gdbstub directory: %w", err)
	}
	// QEMU runs unprivileged and must create the socket itself; then the
	// directory goes back to root, whatever happened.
	if err := os.Chown(dir, uid, gid); err != nil {
		return "", fmt.Errorf("preparing gdbstub directory: %w", err)
	}
	defer func() {
		if cerr := os.Chown(dir, 0, 0); cerr != nil && err == nil {
			err = fmt.Errorf("locking gdbstub directory: %w", cerr)
		}
	}()
	sock = filepath.Join(dir, "gdb.sock")
	// A stub left from an earlier attach holds the chardev: QEMU refuses a
	// second one ("duplicate yank instance") until it is disabled.
	if _, err := d.HMP("gdbserver none"); err != nil {
		return "", err
	}
	_ = os.Remove(sock)
	out, err := d.HMP("gdbserver unix:" + sock + ",server=on,wait=off")
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(sock); err != nil {
		return "", fmt.Errorf("QEMU of %q did not open a gdbstub on %s: %s", d.name, sock, strings.TrimSpace(out))
	}
	return sock, nil
}

// owner reads the uid and gid a process runs as (those of its /proc entry).
func owner(pid int) (uid, gid int, err error) {
	fi, err := os.Stat(filepath.Join("/proc", strconv.Itoa(pid)))
	if err != nil {
		return 0, 0, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, errors.New("no owner in /proc entry")
	}
	return int(st.Uid), int(st.Gid), nil
}

// PagingRegs reads the CR3 and CR4 of the monitor's current vCPU through
// QEMU's monitor, without stopping the guest: the page tables the guest
// runs on now, which tell its running kernel from other bytes in RAM.
func (d *Domain) PagingRegs() (cr3, cr4 uint64, err error) {
	out, err := d.HMP("info registers")
	if err != nil {
		return 0, 0, err
	}
	return parsePagingRegs(out)
}

// parsePagingRegs reads CR3= and CR4= from `info registers`.
func parsePagingRegs(out string) (cr3, cr4 uint64, err error) {
	var seen int
	for _, f := range strings.Fields(out) {
		k, v, _ := strings.Cut(f, "=")
		var dst *uint64
		switch k {
		case "CR3":
			dst = &cr3
		case "CR4":
			dst = &cr4
		default:
			continue
		}
		if *dst, err = strconv.ParseUint(v, 16, 64); err != nil {
			return 0, 0, fmt.Errorf("reading %s from QEMU's registers: %w", k, err)
		}
		if seen++; seen == 2 {
			return cr3, cr4, nil
		}
	}
	return 0, 0, fmt.Errorf("no CR3 and CR4 in QEMU's registers: %q", out)
}
