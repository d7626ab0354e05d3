package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	bm "github.com/charmbracelet/wish/bubbletea"
	"github.com/muesli/termenv"
	gossh "golang.org/x/crypto/ssh"

	"nitro/api"
	"nitro/themes"
	"nitro/ui"
	"nitro/ui/common"
)

// DefaultListen is loopback: serving a guest to a network is a choice.
const DefaultListen = "127.0.0.1:2222"

// DefaultHistory is the calls each screen keeps: every viewer has a store of
// its own, so a class of twenty at the TUI's 100,000 would hold some 500 MB.
const DefaultHistory = 10_000

// Config is what a server serves and to whom.
type Config struct {
	Hypervisor api.Hypervisor
	Listen     string // DefaultListen when ""
	// HostKey is the server's private key file, made on first start.
	HostKey string
	// AuthorizedKeys and Controllers are files in authorized_keys form:
	// the keys that may watch, and those that may also change guests.
	AuthorizedKeys, Controllers string
	// Domains are the domains served; all of the hypervisor's when empty.
	Domains []string
	Theme   string // as --theme; each session's NO_COLOR counts when ""
	Keys    common.KeyMap
	History int // calls each screen keeps; DefaultHistory when 0
	// Audit gets a line per control action (see auditLog).
	Audit io.Writer
	// Log gets the server's own messages: a refused session, an error.
	Log io.Writer
}

// Server is a listening SSH server; Serve serves it.
type Server struct {
	cfg  Config
	ln   net.Listener
	ssh  *ssh.Server
	hub  *hub
	stop context.CancelFunc
	fp   string
}

// ErrNoKeys is a server no key could log in to.
var ErrNoKeys = errors.New("no key may log in: give --authorized-keys, --controllers or both")

// New reads (or makes) the host key, checks the key files and listens.
func New(cfg Config) (*Server, error) {
	if cfg.AuthorizedKeys == "" && cfg.Controllers == "" {
		return nil, ErrNoKeys
	}
	if !cfg.Keys.Quit.Enabled() && !cfg.Keys.ForceQuit.Enabled() {
		return nil, ui.ErrNoQuitKey
	}
	files := keyFiles{viewers: cfg.AuthorizedKeys, controllers: cfg.Controllers}
	for _, f := range []string{files.viewers, files.controllers} {
		if f == "" {
			continue
		}
		if _, err := readAuthorizedKeys(f); err != nil {
			return nil, err
		}
	}
	if cfg.HostKey == "" {
		return nil, errors.New("no host key file")
	}
	signer, err := hostKey(cfg.HostKey)
	if err != nil {
		return nil, err
	}
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.History <= 0 {
		cfg.History = DefaultHistory
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Server{
		cfg:  cfg,
		stop: stop,
		fp:   gossh.FingerprintSHA256(signer.PublicKey()),
		hub:  &hub{hv: cfg.Hypervisor, audit: &auditLog{w: cfg.Audit, now: time.Now}, ctx: ctx, slots: make(map[string]*slot)},
	}
	s.ssh, err = wish.NewServer(
		func(srv *ssh.Server) error { srv.AddHostKey(signer); return nil },
		// Public keys only: with no password or keyboard-interactive
		// handler the server offers neither.
		wish.WithPublicKeyAuth(func(_ ssh.Context, key ssh.PublicKey) bool {
			_, ok, err := files.lookup(key)
			if err != nil {
				fmt.Fprintf(cfg.Log, "nitro serve: reading keys: %v\n", err)
			}
			return ok
		}),
		wish.WithMiddleware(s.closeScreen, bm.MiddlewareWithProgramHandler(s.program, termenv.Ascii)),
	)
	if err != nil {
		stop()
		return nil, err
	}
	s.ln, err = net.Listen("tcp", cfg.Listen)
	if err != nil {
		stop()
		return nil, err
	}
	return s, nil
}

// Addr is where the server listens.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Fingerprint is the host key's SHA256 fingerprint, for clients to check.
func (s *Server) Fingerprint() string { return s.fp }

// Serve serves until ctx ends, then closes every connection and detaches
// every domain.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.ssh.Serve(s.ln) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	s.stop()
	s.ssh.Close()
	s.hub.closeAll()
	if errors.Is(err, ssh.ErrServerClosed) {
		err = nil
	}
	return err
}

// screenKey is where a session's context keeps its screen for closeScreen.
type screenKey struct{}

// program makes a session's screen: the domain list, or the domain the
// command names (ssh -t HOST DOMAIN). nil refuses the session, saying why.
func (s *Server) program(sess ssh.Session) *tea.Program {
	who, ok, err := keyFiles{s.cfg.AuthorizedKeys, s.cfg.Controllers}.lookup(sess.PublicKey())
	if err != nil || !ok { // removed from the files since it logged in
		wish.Fatalln(sess, "nitro serve: this key may no longer log in")
		return nil
	}
	args := sess.Command()
	if len(args) > 1 {
		wish.Fatalln(sess, "usage: ssh -t HOST [DOMAIN]")
		return nil
	}
	pty, _, hasPty := sess.Pty()
	if !hasPty {
		wish.Fatalln(sess, "nitro serve needs a terminal: ssh -t HOST [DOMAIN]")
		return nil
	}
	env := environ(append(sess.Environ(), "TERM="+pty.Term))
	pal, err := themes.Select(s.cfg.Theme, env.Getenv)
	if err != nil {
		wish.Fatalln(sess, "nitro serve:", err)
		return nil
	}
	opts := ui.Options{
		Hypervisor: &access{hub: s.hub, who: who, domains: s.cfg.Domains},
		Palette:    pal,
		Keys:       s.cfg.Keys,
		History:    s.cfg.History,
		ReadOnly:   who.Role != Controller,
		Renderer:   renderer(sess, env, pal),
	}
	if len(args) == 1 {
		opts.Domain = args[0]
	}
	m := ui.New(sess.Context(), opts)
	sess.Context().SetValue(screenKey{}, m)
	return tea.NewProgram(bounded{m}, append(bm.MakeOptions(sess), tea.WithAltScreen(), tea.WithoutSignalHandler())...)
}

// maxSide bounds a screen's width and height: a client asks for any size,
// and each frame is built at the size asked.
const maxSide = 1000

// bounded is a screen whose size no client can make huge.
type bounded struct{ *ui.Model }

func (b bounded) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if w, ok := msg.(tea.WindowSizeMsg); ok {
		msg = tea.WindowSizeMsg{Width: min(w.Width, maxSide), Height: min(w.Height, maxSide)}
	}
	_, cmd := b.Model.Update(msg)
	return b, cmd
}

// closeScreen detaches the session's screen once its program ended, the
// connection with it or not.
func (s *Server) closeScreen(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		if m, ok := sess.Context().Value(screenKey{}).(*ui.Model); ok {
			if err := m.Close(); err != nil {
				fmt.Fprintf(s.cfg.Log, "nitro serve: closing a screen: %v\n", err)
			}
		}
		next(sess)
	}
}

// renderer styles a session's screen for its own terminal, from its TERM
// and NO_COLOR, never asking the terminal (which would eat keys).
func renderer(sess ssh.Session, env environ, pal themes.Palette) *lipgloss.Renderer {
	r := lipgloss.NewRenderer(sess, termenv.WithEnvironment(env), termenv.WithUnsafe(), termenv.WithColorCache(true))
	term := env.Getenv("TERM")
	if pal.Colorless() && r.ColorProfile() == termenv.Ascii && term != "" && term != "dumb" {
		// As ui.Run does: NO_COLOR would drop reverse and bold too, which
		// a palette without colour needs for the selection.
		r.SetColorProfile(termenv.ANSI)
	}
	return r
}

// environ is a session's environment for termenv.
type environ []string

func (e environ) Environ() []string { return e }

// Getenv is the last setting of k: TERM from the pty comes last.
func (e environ) Getenv(k string) string {
	for _, kv := range slices.Backward(e) {
		if v, ok := strings.CutPrefix(kv, k+"="); ok {
			return v
		}
	}
	return ""
}
