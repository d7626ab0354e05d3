package rsp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Options tune a Client. The zero value is usable.
type Options struct {
	// Timeout bounds every request's wait for its reply (not Wait, which
	// waits for the target as long as its context allows). Default 5s.
	Timeout time.Duration
	// MaxPacket bounds the decoded size of a packet from the stub.
	// Default DefaultMaxPacket.
	MaxPacket int
	// Console receives the target's console output (`O` packets) seen
	// while waiting for a stop. Nil discards it.
	Console io.Writer
	// Peer, if not 0, is the process that must serve the socket Dial
	// connects to (its SO_PEERCRED): QEMU's, and not whatever another
	// process of the same user put at that path. Another gets ErrWrongPeer
	// before a byte is sent.
	Peer int
}

// Client talks to one GDB stub. Requests are serialised; Interrupt may be
// called from any goroutine while another one is in Wait.
type Client struct {
	conn io.ReadWriteCloser
	opts Options

	frames     chan frameResult // packets from readLoop
	acks       chan byte        // '+' and '-' from readLoop, in ack mode
	readerDone chan struct{}    // closed when readLoop ends; then readErr is set
	readErr    error
	closing    chan struct{}
	closeOnce  sync.Once

	wmu   sync.Mutex // one writer at a time (readLoop acks, requests, interrupts)
	noAck bool       // guarded by wmu: readLoop reads it when acknowledging

	mu       sync.Mutex // one request at a time; guards the fields below
	running  bool
	detached bool
	physMode bool
	features map[string]string
	vCont    string // the stub's `vCont?` reply, "" without vCont
	layout   *Layout
	lastStop Stop
	stray    *Stop // a trap reported while the target was held stopped
}

// errDone is recv's answer when its done channel closes.
var errDone = errors.New("rsp: wait abandoned")

type frameResult struct {
	data []byte
	err  error
}

// Dial connects to a stub listening on a unix socket and performs the
// handshake of New.
func Dial(ctx context.Context, path string, opts *Options) (*Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("connecting to gdb stub %s: %w", path, err)
	}
	if opts != nil && opts.Peer != 0 {
		if err := checkPeer(conn.(*net.UnixConn), opts.Peer); err != nil {
			conn.Close()
			return nil, fmt.Errorf("connecting to gdb stub %s: %w", path, err)
		}
	}
	c, err := New(conn, opts)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// New takes over conn and negotiates with the stub: features (multiprocess,
// target descriptions, vCont), no-ack mode, and the register layout from
// target.xml. QEMU stops the VM when a debugger connects, so the target is
// stopped when New returns. On error conn is closed, after detaching if
// the stub still answers: the VM it stopped for this client runs on.
func New(conn io.ReadWriteCloser, opts *Options) (*Client, error) {
	c := newClient(conn, opts)
	if err := c.handshake(); err != nil {
		err = fmt.Errorf("gdb stub handshake: %w", err)
		if !errors.Is(err, ErrClosed) {
			err = errors.Join(err, c.Detach())
		}
		return nil, errors.Join(err, c.Close())
	}
	return c, nil
}

// newClient starts reading from conn; the handshake is the caller's.
func newClient(conn io.ReadWriteCloser, opts *Options) *Client {
	c := &Client{
		conn:       conn,
		frames:     make(chan frameResult, 8),
		acks:       make(chan byte, 8),
		readerDone: make(chan struct{}),
		closing:    make(chan struct{}),
	}
	if opts != nil {
		c.opts = *opts
	}
	if c.opts.Timeout <= 0 {
		c.opts.Timeout = 5 * time.Second
	}
	if c.opts.MaxPacket <= 0 {
		c.opts.MaxPacket = DefaultMaxPacket
	}
	go c.readLoop()
	return c
}

func (c *Client) handshake() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	reply, err := c.exchange([]byte("qSupported:multiprocess+;vContSupported+;xmlRegisters=i386"))
	if err != nil {
		return fmt.Errorf("qSupported: %w", err)
	}
	c.features = parseFeatures(string(reply))
	// Asked even when not advertised: QEMU 7.2 does not list it.
	switch err := c.exchangeOK([]byte("QStartNoAckMode")); {
	case err == nil:
		c.wmu.Lock()
		c.noAck = true
		c.wmu.Unlock()
	case !errors.Is(err, ErrUnsupported):
		return fmt.Errorf("QStartNoAckMode: %w", err)
	}
	if c.features["qXfer:features:read"] != "+" {
		return fmt.Errorf("%w: stub gives no target description (qXfer:features:read)", ErrUnsupported)
	}
	if c.layout, err = parseTargetDesc(c.readFeature); err != nil {
		return fmt.Errorf("reading target description: %w", err)
	}
	reply, err = c.exchange([]byte("vCont?"))
	if err != nil {
		return fmt.Errorf("vCont?: %w", err)
	}
	if bytes.HasPrefix(reply, []byte("vCont")) {
		c.vCont = string(reply)
	}
	reply, err = c.exchange([]byte("?"))
	if err != nil {
		return fmt.Errorf("querying stop reason: %w", err)
	}
	if c.lastStop, err = parseStop(reply); err != nil {
		return fmt.Errorf("querying stop reason: %w", err)
	}
	return nil
}

// parseFeatures parses a qSupported reply: `name=value`, `name+`, `name-`.
func parseFeatures(s string) map[string]string {
	f := make(map[string]string)
	for item := range strings.SplitSeq(s, ";") {
		if name, value, ok := strings.Cut(item, "="); ok {
			f[name] = value
		} else if n := len(item); n > 0 && (item[n-1] == '+' || item[n-1] == '-') {
			f[item[:n-1]] = item[n-1:]
		}
	}
	return f
}

// Feature returns the stub's qSupported value for name: "+" or "-" for
// flags, the value for `name=value`, "" when absent.
func (c *Client) Feature(name string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.features[name]
}

// Layout returns the register layout learnt from the target description.
func (c *Client) Layout() *Layout { return c.layout }

// Multiprocess reports whether the stub speaks multiprocess thread ids.
func (c *Client) Multiprocess() bool { return c.features["multiprocess"] == "+" }

// LastStop returns the most recent stop reply: the one that ended the last
// Wait, or the stub's answer to `?` at connection time.
func (c *Client) LastStop() Stop {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastStop
}

// Close closes the connection without detaching. QEMU then leaves the VM
// as it is (stopped, if it was): call Detach first.
func (c *Client) Close() error {
	var err error
	c.closeOnce.Do(func() {
		close(c.closing)
		err = c.conn.Close()
		<-c.readerDone
	})
	return err
}

// readLoop turns the byte stream into frames: acknowledges packets in ack
// mode and hands them to whoever waits for a reply.
func (c *Client) readLoop() {
	defer close(c.readerDone)
	br := bufio.NewReader(c.conn)
	for {
		f, err := readFrame(br, c.opts.MaxPacket)
		if err != nil && !errors.Is(err, ErrChecksum) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrMalformed) {
			c.readErr = fmt.Errorf("%w: %v", ErrClosed, err)
			return
		}
		c.wmu.Lock()
		noAck := c.noAck
		c.wmu.Unlock()
		switch f.kind {
		case '+', '-':
			if !noAck {
				select {
				case c.acks <- f.kind:
				default: // nobody waits for this ack: a stray one
				}
			}
			continue
		case '%':
			continue // notifications are for non-stop mode, which is not used
		}
		if !noAck {
			if errors.Is(err, ErrChecksum) {
				_ = c.write([]byte{'-'}) // the stub resends it
				continue
			}
			_ = c.write([]byte{'+'}) // a failed write ends readLoop via the reader
		}
		select {
		case c.frames <- frameResult{f.data, err}:
		case <-c.closing:
			c.readErr = ErrClosed
			return
		}
	}
}

// write sends raw bytes. On connections with deadlines (net.Conn), a stub
// that stops reading makes the write fail after the timeout instead of
// blocking forever.
func (c *Client) write(p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if d, ok := c.conn.(interface{ SetWriteDeadline(time.Time) error }); ok {
		_ = d.SetWriteDeadline(time.Now().Add(c.opts.Timeout))
	}
	if _, err := c.conn.Write(p); err != nil {
		return fmt.Errorf("%w: %v", ErrClosed, err)
	}
	return nil
}

// send writes one packet; in ack mode it waits for the stub's '+' and
// resends on '-'.
func (c *Client) send(data []byte) error {
	pkt := appendFrame(nil, data)
	c.wmu.Lock()
	noAck := c.noAck
	c.wmu.Unlock()
	if noAck {
		return c.write(pkt)
	}
	for len(c.acks) > 0 {
		<-c.acks
	}
	for range 3 {
		if err := c.write(pkt); err != nil {
			return err
		}
		select {
		case a := <-c.acks:
			if a == '+' {
				return nil
			}
		case <-c.readerDone:
			return c.readErr
		case <-time.After(c.opts.Timeout):
			return fmt.Errorf("%w: no acknowledgement", ErrTimeout)
		}
	}
	return fmt.Errorf("%w: stub kept rejecting packet %.16q", ErrChecksum, data)
}

// recv waits for the next packet until timeout fires or done is closed.
func (c *Client) recv(timeout <-chan time.Time, done <-chan struct{}) ([]byte, error) {
	select {
	case r := <-c.frames:
		return r.data, r.err
	case <-c.readerDone:
		// A packet may have arrived just before the stub hung up.
		select {
		case r := <-c.frames:
			return r.data, r.err
		default:
			return nil, c.readErr
		}
	case <-timeout:
		return nil, ErrTimeout
	case <-done:
		return nil, errDone
	}
}

// exchange sends one request and returns its reply; c.mu is held. Replies
// left over from a request that timed out are dropped first, so one slow
// answer does not shift every later reply by one.
func (c *Client) exchange(data []byte) ([]byte, error) {
	c.drain()
	if err := c.send(data); err != nil {
		return nil, err
	}
	t := time.NewTimer(c.opts.Timeout)
	defer t.Stop()
	reply, err := c.recv(t.C, nil)
	for err == nil && data[0] != '?' && isStopReply(reply) {
		// QEMU announces the stop it makes when a debugger connects
		// (T02), at a time of its choosing: it is no answer to data.
		c.noteStray(reply)
		reply, err = c.recv(t.C, nil)
	}
	if err != nil {
		return nil, err
	}
	if len(reply) == 3 && reply[0] == 'E' {
		if code, ok := parseHexByte(reply[1], reply[2]); ok {
			return nil, StubError{Code: code}
		}
	}
	return reply, nil
}

// drain drops replies left over from a request that timed out, noting
// stray stops; c.mu is held.
func (c *Client) drain() {
	for len(c.frames) > 0 {
		if r := <-c.frames; r.err == nil && isStopReply(r.data) {
			c.noteStray(r.data)
		}
	}
}

// noteStray records a stop reply nobody asked for; c.mu is held. A trap
// (SIGTRAP) means the target ran although this client had it stopped:
// QEMU's monitor resumed it (virsh resume) and it stopped again.
func (c *Client) noteStray(reply []byte) {
	stop, err := parseStop(reply)
	if err != nil {
		return
	}
	c.lastStop = stop
	if stop.Kind == Stopped && stop.Signal == SIGTRAP {
		c.stray = &stop
	}
}

// TakeStray returns the stop of a target that ran and stopped again while
// this client held it stopped (see noteStray), and forgets it.
func (c *Client) TakeStray() (Stop, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.running {
		c.drain()
	}
	s := c.stray
	c.stray = nil
	if s == nil {
		return Stop{}, false
	}
	return *s, true
}

// exchangeOK is exchange for requests whose success reply is "OK".
func (c *Client) exchangeOK(data []byte) error {
	reply, err := c.exchange(data)
	if err != nil {
		return err
	}
	switch string(reply) {
	case "OK":
		return nil
	case "":
		return ErrUnsupported
	}
	return fmt.Errorf("%w: %.32q", ErrMalformed, reply)
}

// ready says whether requests may be sent now; c.mu is held.
func (c *Client) ready() error {
	switch {
	case c.detached:
		return ErrDetached
	case c.running:
		return ErrRunning
	}
	return nil
}

// request is exchange for callers that need a stopped target.
func (c *Client) request(data []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.ready(); err != nil {
		return nil, err
	}
	return c.exchange(data)
}

func (c *Client) requestOK(data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.ready(); err != nil {
		return err
	}
	return c.exchangeOK(data)
}

// checkPeer fails unless process pid serves conn.
func checkPeer(conn *net.UnixConn, pid int) error {
	raw, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var cred *unix.Ucred
	cerr := raw.Control(func(fd uintptr) {
		cred, err = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if err = errors.Join(cerr, err); err != nil {
		return fmt.Errorf("reading the socket's peer: %w", err)
	}
	if int(cred.Pid) != pid {
		return fmt.Errorf("%w: served by process %d, want %d", ErrWrongPeer, cred.Pid, pid)
	}
	return nil
}
