package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"nitro/api"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"nitro/core"
	"nitro/core/kvm/domain"
	"nitro/internal/lab"
)

// TestRunControl pauses a traced guest outside nitro (virsh suspend) and
// with nitro's own Pause: each time it stays paused, nitro says so and sees
// no calls, and tracing goes on once it is resumed.
func TestRunControl(t *testing.T) {
	lab.RequireRoot(t)
	g := lab.Default
	dom := labDomain(t, g)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := core.Attach(ctx, lab.URI, g.Name, core.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sub := s.Subscribe(1<<16, api.Lossy)
	go func() {
		for range sub.C() {
		}
	}()
	go s.Run(ctx)
	progress := func(what string) {
		t.Helper()
		before := s.Stats().Events
		for deadline := time.Now().Add(30 * time.Second); s.Stats().Events < before+20; time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: no calls traced", what)
			}
		}
	}
	stays := func(what string) {
		t.Helper()
		time.Sleep(time.Second) // let a call in flight land
		before := s.Stats().Events
		time.Sleep(2 * time.Second)
		info, err := dom.Info()
		if err != nil {
			t.Fatal(err)
		}
		if st := s.Stats(); info.State != domain.Paused || !st.Paused || st.Events != before {
			t.Fatalf("%s: libvirt says %s, nitro paused=%v, %d calls while paused",
				what, info.State, st.Paused, st.Events-before)
		}
	}

	progress("attached")
	// A suspend that lands while the guest is stopped at a call is a no-op
	// in QEMU (and libvirt reports success): only one that QEMU carries out
	// pauses anything. Try until one lands while the guest runs.
	for try := 0; !s.Stats().Paused; try++ {
		if try == 20 {
			t.Fatal("virsh suspend never paused the traced guest")
		}
		if err := dom.Suspend(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	stays("virsh suspend")
	if err := dom.Resume(); err != nil {
		t.Fatal(err)
	}
	progress("virsh resume")

	if err := s.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	stays("Pause")
	if err := s.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	progress("Resume")

	// A held call, and virsh resume behind nitro's back: the call runs on
	// unchanged, nitro says so, and tracing goes on.
	if err := s.Break(ctx, api.Breakpoint{Name: "openat"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Held():
	case <-time.After(time.Minute):
		t.Fatal("no openat held")
	}
	if err := s.ClearBreak(ctx, api.Breakpoint{Name: "openat"}); err != nil {
		t.Fatal(err)
	}
	// libvirt learns of the stop from QEMU's event: resume once it has.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		info, err := dom.Info()
		if err != nil {
			t.Fatal(err)
		}
		if info.State == domain.Paused {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("libvirt still says %s 30 s into a held call", info.State)
		}
	}
	if err := dom.Resume(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if err := s.Continue(ctx); err != nil {
		t.Fatal(err)
	}
	progress("virsh resume while held")
	if n := s.Stats().ResumedOutside; n != 1 {
		t.Errorf("ResumedOutside = %d, want 1", n)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	requireRunning(t, g)
}

// TestAttachNeedsNoSetup attaches to a domain defined with no gdb option;
// the gdbstub nitro opens is a unix socket only root can reach, never a TCP
// port.
func TestAttachNeedsNoSetup(t *testing.T) {
	lab.RequireRoot(t)
	g := lab.Default
	dom := labDomain(t, g)
	xml, err := exec.Command("virsh", "-c", lab.URI, "dumpxml", g.Name).Output()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(xml, []byte("gdb")) {
		t.Fatalf("the lab domain is defined with a gdb option:\n%s", xml)
	}
	s, err := core.Attach(context.Background(), lab.URI, g.Name, core.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dir := filepath.Join("/run/nitro", g.Name)
	sock, err := os.Stat(filepath.Join(dir, "gdb.sock"))
	if err != nil || sock.Mode()&fs.ModeSocket == 0 {
		t.Fatalf("no unix socket in %s: %v", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); fi.Mode().Perm() != 0o700 || st.Uid != 0 {
		t.Errorf("%s is %v owned by uid %d, want 0700 root", dir, fi.Mode().Perm(), st.Uid)
	}
	pid, err := dom.QEMUPid()
	if err != nil {
		t.Fatal(err)
	}
	listeners, err := exec.Command("ss", "-Hltnp").Output()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(listeners, []byte(fmt.Sprintf("pid=%d,", pid))) {
		t.Errorf("QEMU (pid %d) listens on TCP:\n%s", pid, listeners)
	}
}
