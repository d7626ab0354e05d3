package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"time"

	"nitro/api"
	"nitro/internal/escape"
)

// Target is where a libvirt qemu+ssh URI points: the SSH login, and the
// libvirt URI the far nitro uses there.
type Target struct {
	User, Host, Port string
	KeyFile          string
	NoVerify         bool   // no_verify=1: do not check the host's key
	URI              string // on the far host: qemu:///system
}

// IsSSH says whether uri is one of libvirt's SSH URIs (qemu+ssh://...),
// whose guests nitro reaches through a far nitro.
func IsSSH(uri string) bool { return strings.HasPrefix(uri, "qemu+ssh:") }

// ParseURI reads a libvirt URI of the qemu+ssh transport, taking the
// parameters libvirt's SSH transport takes that matter to ssh (keyfile,
// no_verify); the path picks qemu:///system or qemu:///session there.
func ParseURI(uri string) (Target, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return Target{}, fmt.Errorf("libvirt URI %q: %w", uri, err)
	}
	if u.Scheme != "qemu+ssh" || u.Hostname() == "" {
		return Target{}, fmt.Errorf("libvirt URI %q: not qemu+ssh://[user@]host[:port]/system", uri)
	}
	path := u.Path
	if path == "" {
		path = "/system"
	}
	if path != "/system" && path != "/session" {
		return Target{}, fmt.Errorf("libvirt URI %q: path %q is neither /system nor /session", uri, path)
	}
	q := u.Query()
	return Target{
		User: u.User.Username(), Host: u.Hostname(), Port: u.Port(),
		KeyFile: q.Get("keyfile"), NoVerify: q.Get("no_verify") == "1",
		URI: "qemu://" + path,
	}, nil
}

// login is user@host, or host.
func (t Target) login() string {
	if t.User != "" {
		return t.User + "@" + t.Host
	}
	return t.Host
}

// Command is the ssh command line that runs `nitro agent` on the far host:
// never a password prompt (BatchMode), compressed (-C: the calls' texts
// compress several times over), the far nitro's flags after its path.
func (t Target) Command(nitro string, flags ...string) []string {
	cmd := []string{"ssh", "-C", "-T", "-o", "BatchMode=yes", "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3"}
	if t.Port != "" {
		cmd = append(cmd, "-p", t.Port)
	}
	if t.KeyFile != "" {
		cmd = append(cmd, "-i", t.KeyFile, "-o", "IdentitiesOnly=yes")
	}
	if t.NoVerify {
		cmd = append(cmd, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR")
	}
	far := append([]string{nitro, "-c", t.URI}, flags...)
	far = append(far, "agent")
	for i, a := range far { // ssh hands the far shell one string
		far[i] = shellQuote(a)
	}
	return append(append(cmd, "--", t.login()), strings.Join(far, " "))
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// SSH is an api.Hypervisor on a libvirt qemu+ssh URI: the domain list and
// run control through libvirt's remote driver (Libvirt), a guest's calls
// and memory through `nitro agent` run over ssh, a connection per attach
// or inspect.
type SSH struct {
	Target  Target
	Libvirt api.Hypervisor
	// Nitro is the far nitro's path ("nitro": found on the far PATH);
	// Flags are given to it before "agent" (--listener, --os).
	Nitro string
	Flags []string
	// Symbols and Profile are files of this host (--symbols, --profile):
	// their contents go with each attach and inspect.
	Symbols, Profile string
}

var _ api.Hypervisor = (*SSH)(nil)

func (h *SSH) Domains(ctx context.Context) ([]api.Domain, error) { return h.Libvirt.Domains(ctx) }
func (h *SSH) Control(ctx context.Context, name string, a api.Action) error {
	return h.Libvirt.Control(ctx, name, a)
}

// dialKernel is Dial for an attach or inspect, which carry the kernel files.
func (h *SSH) dialKernel(ctx context.Context) (*Client, error) {
	k, err := ReadKernelFiles(h.Symbols, h.Profile)
	if err != nil {
		return nil, err
	}
	c, err := h.Dial(ctx)
	if err != nil {
		return nil, err
	}
	c.Kernel = k
	return c, nil
}

// Attach runs a far nitro and attaches it; closing the session ends it.
func (h *SSH) Attach(ctx context.Context, name string, o api.AttachOptions) (api.Session, error) {
	c, err := h.dialKernel(ctx)
	if err != nil {
		return nil, err
	}
	s, err := c.Attach(ctx, name, o)
	if err != nil {
		c.Close()
		return nil, err
	}
	return &ownedSession{Session: s, c: c}, nil
}

// Inspect runs a far nitro and opens the guest; closing it ends it.
func (h *SSH) Inspect(ctx context.Context, name string) (api.Guest, error) {
	c, err := h.dialKernel(ctx)
	if err != nil {
		return nil, err
	}
	g, err := c.Inspect(ctx, name)
	if err != nil {
		c.Close()
		return nil, err
	}
	return &ownedGuest{Guest: g, c: c}, nil
}

func (h *SSH) Detach(ctx context.Context, name string) error {
	c, err := h.Dial(ctx)
	if err != nil {
		return err
	}
	return errors.Join(c.Detach(ctx, name), c.Close())
}

// ownedSession and ownedGuest end their connection with them.
type ownedSession struct {
	api.Session
	c *Client
}

func (s *ownedSession) Close() error { return errors.Join(s.Session.Close(), s.c.Close()) }

type ownedGuest struct {
	api.Guest
	c *Client
}

func (g *ownedGuest) Close() error { return errors.Join(g.Guest.Close(), g.c.Close()) }

// Dial runs the far nitro's agent over ssh and greets it.
func (h *SSH) Dial(ctx context.Context) (*Client, error) {
	argv := h.Target.Command(h.Nitro, h.Flags...)
	cmd := exec.Command(argv[0], argv[1:]...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, stdin: stdin, stdout: stdout, exited: make(chan struct{})}
	cmd.Stderr = &p.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting ssh: %w", err)
	}
	go func() {
		p.werr = cmd.Wait()
		close(p.exited)
	}()
	c, err := NewClient(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("nitro agent on %s: %w%s", h.Target.Host, err, p.said())
	}
	c.Lost = func() string {
		return fmt.Sprintf("the connection to %s dropped; the guest runs on there, detached%s", h.Target.Host, p.said())
	}
	return c, nil
}

// process is ssh as a connection.
type process struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout io.Reader
	stderr tail
	exited chan struct{}
	werr   error
}

func (p *process) Read(b []byte) (int, error)  { return p.stdout.Read(b) }
func (p *process) Write(b []byte) (int, error) { return p.stdin.Write(b) }

// Close ends the far nitro by closing its input (it detaches then), and
// ssh after it, killing ssh if it does not end soon.
func (p *process) Close() error {
	p.stdin.Close()
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
	return nil
}

// said is what ssh or the far nitro wrote to stderr, escaped, to end an
// error with.
func (p *process) said() string {
	select {
	case <-p.exited:
	case <-time.After(2 * time.Second): // ssh may still be writing its reason
	}
	if s := strings.TrimSpace(p.stderr.String()); s != "" {
		return " (ssh: " + escape.String(s) + ")"
	}
	return ""
}

// tail keeps the last bytes written to it.
type tail struct {
	mu sync.Mutex
	b  []byte
}

const tailMax = 2048

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, b...)
	if len(t.b) > tailMax {
		t.b = bytes.Clone(t.b[len(t.b)-tailMax:])
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
