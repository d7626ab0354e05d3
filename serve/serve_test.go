package serve

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"

	"nitro/api"
	"nitro/internal/syncbuf"
	"nitro/ui/uitest"
)

// person is a client key and the line that authorizes it.
type person struct {
	signer gossh.Signer
	line   string
}

func newPerson(t testing.TB, name string) person {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return person{signer, strings.TrimSpace(string(gossh.MarshalAuthorizedKey(sshPub))) + " " + name + "\n"}
}

// testServer is a server on a fake hypervisor with one domain, "lab",
// watched by viewer1 and viewer2 and controlled by teacher.
type testServer struct {
	*Server
	dir                       string
	sess                      *uitest.Session
	audit                     *syncbuf.Buffer
	viewer1, viewer2, teacher person
}

func startServer(t *testing.T) *testServer {
	t.Helper()
	ts := &testServer{dir: t.TempDir(), sess: uitest.NewSession(), audit: &syncbuf.Buffer{},
		viewer1: newPerson(t, "ann"), viewer2: newPerson(t, "bob"), teacher: newPerson(t, "teacher")}
	hv := uitest.NewHypervisor()
	hv.Add(api.Domain{Name: "lab", State: "running", VCPUs: 1, MemoryKiB: 1 << 20}, ts.sess)
	write := func(name, text string) string {
		p := filepath.Join(ts.dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg := Config{
		Hypervisor:     hv,
		Listen:         "127.0.0.1:0",
		HostKey:        filepath.Join(ts.dir, "host_key"),
		AuthorizedKeys: write("viewers", "# the class\n"+ts.viewer1.line+"\n"+ts.viewer2.line),
		Controllers:    write("controllers", ts.teacher.line),
		Keys:           *uitest.Keys(),
		Audit:          ts.audit,
		Log:            &syncbuf.Buffer{},
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts.Server = s
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ts
}

func (ts *testServer) dial(auth ...gossh.AuthMethod) (*gossh.Client, error) {
	return gossh.Dial("tcp", ts.Addr().String(), &gossh.ClientConfig{
		User:            "student",
		Auth:            auth,
		HostKeyCallback: gossh.InsecureIgnoreHostKey(),
		Timeout:         10 * time.Second,
	})
}

// screen is one SSH session's terminal, as text without its escapes.
type screen struct {
	t     *testing.T
	mu    sync.Mutex
	out   bytes.Buffer
	grew  chan struct{} // signalled at each read
	stdin interface{ Write([]byte) (int, error) }
}

func (sc *screen) Write(p []byte) (int, error) {
	sc.mu.Lock()
	sc.out.Write(p)
	sc.mu.Unlock()
	select {
	case sc.grew <- struct{}{}:
	default:
	}
	return len(p), nil
}

// waitFor waits until the screen has shown text since mark; it fails the
// test if the server shows nothing new for a long while.
func (sc *screen) waitFor(text string) {
	sc.t.Helper()
	for {
		sc.mu.Lock()
		got := ansi.Strip(sc.out.String())
		sc.mu.Unlock()
		if strings.Contains(got, text) {
			return
		}
		select {
		case <-sc.grew:
		case <-time.After(10 * time.Second):
			sc.t.Fatalf("the screen never showed %q; it shows:\n%q", text, sc.out.String())
		}
	}
}

// clear forgets what the screen showed, so that waitFor sees only what
// comes after.
func (sc *screen) clear() {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.out.Reset()
}

// press types keys in one write: the program reads several runes at once
// as one key, so a test waits for each key's effect before the next.
func (sc *screen) press(keys string) {
	sc.t.Helper()
	if _, err := sc.stdin.Write([]byte(keys)); err != nil {
		sc.t.Fatal(err)
	}
}

// open logs p in with a terminal, on the domain list or on a domain.
func (ts *testServer) open(t *testing.T, p person, domain string) *screen {
	t.Helper()
	return ts.openSized(t, p, domain, 160, 40)
}

func (ts *testServer) openSized(t *testing.T, p person, domain string, w, h int) *screen {
	t.Helper()
	c, err := ts.dial(gossh.PublicKeys(p.signer))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	sc := &screen{t: t, grew: make(chan struct{}, 1)}
	s.Stdout = sc
	if sc.stdin, err = s.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := s.RequestPty("xterm-256color", h, w, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	if domain == "" {
		err = s.Shell()
	} else {
		err = s.Start(domain)
	}
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestHostKeyMadeOwnerOnly(t *testing.T) {
	ts := startServer(t)
	path := filepath.Join(ts.dir, "host_key")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("host key mode %04o, want 0600", st.Mode().Perm())
	}
	signer, err := hostKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if fp := gossh.FingerprintSHA256(signer.PublicKey()); fp != ts.Fingerprint() {
		t.Errorf("the key read again is %s, the server's %s: it was made anew", fp, ts.Fingerprint())
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := hostKey(path); err == nil {
		t.Error("a host key others may read was taken")
	}
}

func TestOnlyKnownPublicKeysGetIn(t *testing.T) {
	ts := startServer(t)
	stranger := newPerson(t, "stranger")
	for name, auth := range map[string]gossh.AuthMethod{
		"password":             gossh.Password("secret"),
		"keyboard-interactive": gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) { return []string{"secret"}, nil }),
		"unknown key":          gossh.PublicKeys(stranger.signer),
	} {
		c, err := ts.dial(auth)
		if err == nil {
			c.Close()
			t.Errorf("%s: logged in", name)
		} else if !strings.Contains(err.Error(), "unable to authenticate") {
			t.Errorf("%s: %v, want an authentication refusal", name, err)
		}
	}
	c, err := ts.dial(gossh.PublicKeys(ts.viewer1.signer))
	if err != nil {
		t.Fatalf("an authorized key: %v", err)
	}
	c.Close()
}

// first feeds the session a few calls and waits until sc shows them.
func (ts *testServer) feed(screens ...*screen) {
	ts.sess.Send(uitest.Stream(1, 12))
	for _, sc := range screens {
		sc.waitFor(`"/etc/passwd"`)
	}
}

func TestViewerMayNotBreak(t *testing.T) {
	ts := startServer(t)
	v := ts.open(t, ts.viewer1, "lab")
	v.waitFor("lab")
	ts.feed(v)
	v.clear()
	v.press("b")
	v.waitFor("read-only session")
	v.press("p")
	v.waitFor("read-only session")
	ts.sess.Lock()
	breaks := len(ts.sess.Breaks)
	ts.sess.Unlock()
	if breaks != 0 {
		t.Errorf("a viewer's b armed %d breaks", breaks)
	}
}

func TestControllerBreakHeldShownToAll(t *testing.T) {
	ts := startServer(t)
	ann := ts.open(t, ts.viewer1, "lab")
	bob := ts.open(t, ts.viewer2, "lab")
	teacher := ts.open(t, ts.teacher, "lab")
	for _, sc := range []*screen{ann, bob, teacher} {
		sc.waitFor("lab")
	}
	ts.feed(ann, bob, teacher)
	teacher.clear()
	teacher.press("b") // on the selected call: the last, as the pane follows
	teacher.waitFor("break armed: close")
	ts.sess.Lock()
	breaks := append([]api.Breakpoint(nil), ts.sess.Breaks...)
	ts.sess.Unlock()
	if len(breaks) != 1 || breaks[0] != (api.Breakpoint{Name: "close"}) {
		t.Fatalf("the session's breaks: %v, want close", breaks)
	}
	if log := ts.audit.String(); !strings.Contains(log, `name="teacher" domain="lab" action="break close" result=ok`) ||
		!strings.Contains(log, "key="+gossh.FingerprintSHA256(ts.teacher.signer.PublicKey())) {
		t.Errorf("the audit log lacks the break:\n%s", log)
	}

	ann.clear()
	bob.clear()
	ts.sess.Hold(api.Held{Call: uitest.Script()[5].Enter(100, uitest.Epoch.Add(time.Second))})
	for _, sc := range []*screen{ann, bob} {
		sc.waitFor("held by teacher")
	}
	bob.clear()
	bob.press("c")
	bob.waitFor("read-only session")
	ann.clear()
	teacher.press("c")
	ann.waitFor("the held call ran on")
	ts.sess.Lock()
	continues := ts.sess.Continues
	ts.sess.Unlock()
	if continues != 1 {
		t.Errorf("the session was continued %d times, want once", continues)
	}
	if log := ts.audit.String(); !strings.Contains(log, `action="continue" result=ok`) {
		t.Errorf("the audit log lacks the continue:\n%s", log)
	}
}

func TestDomainListAndControl(t *testing.T) {
	ts := startServer(t)
	ann := ts.open(t, ts.viewer1, "")
	ann.waitFor("lab")
	ann.press("s")
	ann.waitFor("read-only session")
	if log := ts.audit.String(); log != "" {
		t.Errorf("a refused key was acted on:\n%s", log)
	}
	teacher := ts.open(t, ts.teacher, "")
	teacher.waitFor("lab")
	teacher.press("s") // on the first domain, test:///default's "test"
	teacher.waitFor("start test: done")
	if log := ts.audit.String(); !strings.Contains(log, `name="teacher" domain="test" action="start" result=ok`) {
		t.Errorf("the audit log lacks the start:\n%s", log)
	}
}

// TestHugeWindowIsBounded: a client asking for a screen of a billion
// cells gets one the server can draw.
func TestHugeWindowIsBounded(t *testing.T) {
	ts := startServer(t)
	sc := ts.openSized(t, ts.viewer1, "lab", 1<<30, 1<<30)
	sc.waitFor("lab | gdbstub")
}
