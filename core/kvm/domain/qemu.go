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

// SystemRegs are the system registers of a vCPU that place its kernel.
type SystemRegs struct {
	// CR3 and CR4 are the page tables the vCPU runs on now, which tell the
	// running kernel from other bytes in RAM.
	CR3, CR4 uint64
	// GSBase and IDTBase find a Windows kernel: its per-processor block
	// (KPCR) at the GS base in kernel mode, ntoskrnl below IDT vector 0's
	// handler in any mode.
	GSBase, IDTBase uint64
}

// SystemRegs reads the monitor's current vCPU's SystemRegs through QEMU's
// monitor, without stopping the guest.
func (d *Domain) SystemRegs() (SystemRegs, error) {
	out, err := d.HMP("info registers")
	if err != nil {
		return SystemRegs{}, err
	}
	return parseSystemRegs(out)
}

// parseSystemRegs reads `info registers`: CR3= and CR4= among a line's
// fields, the base of the lines `GS =SEL BASE LIMIT FLAGS` and
// `IDT=     BASE LIMIT`.
func parseSystemRegs(out string) (SystemRegs, error) {
	var r SystemRegs
	found := map[string]bool{}
	set := func(name, hex string, dst *uint64) error {
		v, err := strconv.ParseUint(hex, 16, 64)
		if err != nil {
			return fmt.Errorf("reading %s from QEMU's registers: %w", name, err)
		}
		*dst, found[name] = v, true
		return nil
	}
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		var err error
		switch {
		case len(f) >= 3 && f[0] == "GS" && strings.HasPrefix(f[1], "="):
			err = set("GS", f[2], &r.GSBase)
		case len(f) >= 2 && f[0] == "IDT=":
			err = set("IDT", f[1], &r.IDTBase)
		default:
			for _, kv := range f {
				switch k, v, _ := strings.Cut(kv, "="); k {
				case "CR3":
					err = set(k, v, &r.CR3)
				case "CR4":
					err = set(k, v, &r.CR4)
				}
				if err != nil {
					break
				}
			}
		}
		if err != nil {
			return SystemRegs{}, err
		}
	}
	if len(found) != 4 {
		return SystemRegs{}, fmt.Errorf("no CR3, CR4, GS and IDT in QEMU's registers: %q", out)
	}
	return r, nil
}
