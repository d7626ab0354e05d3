package serve

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"nitro/api"
	"nitro/ui/uitest"
)

// The benchmark's server runs in a process of its own (this test binary,
// started again with benchServerEnv set to its key directory), so that its
// CPU and memory are its own, not the clients'.
const benchServerEnv = "NITRO_SERVE_BENCH_SERVER"

const (
	benchViewers = 20
	benchRate    = 10_000 // events per second
	benchWidth   = 120
	benchHeight  = 34
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(benchServerEnv); dir != "" {
		if err := benchServer(dir); err != nil {
			fmt.Fprintln(os.Stderr, "bench server:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// benchServer serves a synthetic domain, "lab", flooded at benchRate, to
// the keys in dir/viewers, until its stdin closes; it prints its address,
// then for each line it reads the most calls one screen missed.
func benchServer(dir string) error {
	sess := uitest.NewSession()
	hv := uitest.NewHypervisor()
	hv.Add(api.Domain{Name: "lab", State: "running"}, sess)
	s, err := New(Config{Hypervisor: hv, Listen: "127.0.0.1:0", HostKey: filepath.Join(dir, "host_key"),
		AuthorizedKeys: filepath.Join(dir, "viewers"), Keys: *uitest.Keys(), Theme: "dark", Audit: io.Discard, Log: os.Stderr})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for in := bufio.NewScanner(os.Stdin); in.Scan(); {
			fmt.Println(s.mostDropped())
		}
		cancel()
	}()
	go sess.Flood(ctx, benchRate, 30*time.Millisecond)
	fmt.Println(s.Addr())
	return s.Serve(ctx)
}

// mostDropped is the most calls one screen missed.
func (s *Server) mostDropped() uint64 {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	var most uint64
	for _, sl := range h.slots {
		sl.mu.Lock()
		if sh := sl.shared; sh != nil {
			sh.mu.Lock()
			for v := range sh.viewers {
				for _, f := range v.subs {
					most = max(most, f.Dropped())
				}
			}
			sh.mu.Unlock()
		}
		sl.mu.Unlock()
	}
	return most
}

// frameCounter reads a viewer's terminal: the frames (each starts at the
// home position on the alternate screen), the longest wait between two,
// and the drops its status bar shows last.
type frameCounter struct {
	mu      sync.Mutex
	frames  int
	last    time.Time
	maxGap  time.Duration
	dropped uint64
	tail    []byte
}

var (
	frameStart = []byte("\x1b[H")
	droppedRe  = regexp.MustCompile(`dropped (\d+)`)
)

func (f *frameCounter) Write(p []byte) (int, error) {
	now := time.Now()
	buf := append(f.tail, p...)
	n := bytes.Count(buf, frameStart)
	var dropped []byte
	if m := droppedRe.FindAllSubmatch(buf, -1); m != nil {
		dropped = m[len(m)-1][1]
	}
	f.mu.Lock()
	if n > 0 {
		if !f.last.IsZero() {
			f.maxGap = max(f.maxGap, now.Sub(f.last))
		}
		f.frames += n
		f.last = now
	}
	if dropped != nil {
		f.dropped, _ = strconv.ParseUint(string(dropped), 10, 64)
	}
	f.mu.Unlock()
	// Keep the end: a marker or a count may be cut by the read.
	f.tail = append(f.tail[:0], buf[max(len(buf)-32, 0):]...)
	return len(p), nil
}

// reset starts the measured window.
func (f *frameCounter) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.frames, f.maxGap, f.last = 0, 0, time.Time{}
}

func (f *frameCounter) read() (frames int, maxGap time.Duration, dropped uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.frames, f.maxGap, f.dropped
}

// BenchmarkServeViewers serves a 10,000 events/s synthetic domain to 20
// SSH viewers, one of which never reads (its connection stalls once the
// SSH window is full), and reports the server's CPU (cores) and peak
// memory, the healthy viewers' frame rates and longest frame gap, and the
// calls their status bars say they missed. The same with all 20 reading
// is the reference: a stalled viewer must not slow the others' frames.
// NITRO_SERVE_BENCH_FOR sets the measured window (default 10s).
func BenchmarkServeViewers(b *testing.B) {
	b.Run("one-stalled", func(b *testing.B) { benchViewersServed(b, true) })
	b.Run("none-stalled", func(b *testing.B) { benchViewersServed(b, false) })
}

func benchViewersServed(b *testing.B, stall bool) {
	window := 10 * time.Second
	if v := os.Getenv("NITRO_SERVE_BENCH_FOR"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatal(err)
		}
		window = d
	}
	dir := b.TempDir()
	var lines string
	var signers []gossh.Signer
	for i := range benchViewers {
		p := newPerson(b, fmt.Sprintf("viewer%d", i))
		lines += p.line
		signers = append(signers, p.signer)
	}
	if err := os.WriteFile(filepath.Join(dir, "viewers"), []byte(lines), 0o600); err != nil {
		b.Fatal(err)
	}
	srv := exec.Command(os.Args[0], "-test.run=^$")
	srv.Env = append(os.Environ(), benchServerEnv+"="+dir)
	srv.Stderr = os.Stderr
	stdin, err := srv.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := srv.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	defer srv.Wait()
	defer stdin.Close()
	out := bufio.NewScanner(stdout)
	if !out.Scan() {
		b.Fatal("the bench server printed no address")
	}
	addr := out.Text()

	counters := make([]*frameCounter, benchViewers)
	for i, signer := range signers {
		c, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "bench", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
			HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		s, err := c.NewSession()
		if err != nil {
			b.Fatal(err)
		}
		if err := s.RequestPty("xterm-256color", benchHeight, benchWidth, gossh.TerminalModes{}); err != nil {
			b.Fatal(err)
		}
		if i == 0 && stall {
			// The stalled viewer: its output is never read, so the
			// server's writes to it block once the window is full.
			if _, err := s.StdoutPipe(); err != nil {
				b.Fatal(err)
			}
		} else {
			counters[i] = &frameCounter{}
			s.Stdout = counters[i]
		}
		if err := s.Start("lab"); err != nil {
			b.Fatal(err)
		}
	}
	// stalled asks the server how many calls the stalled viewer missed.
	stalled := func() uint64 {
		b.Helper()
		if _, err := io.WriteString(stdin, "?\n"); err != nil {
			b.Fatal(err)
		}
		if !out.Scan() {
			b.Fatal("the bench server did not say what the stalled viewer missed")
		}
		n, err := strconv.ParseUint(out.Text(), 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	// Viewer 0 is left out of the figures, reading or not: the same 19
	// viewers are measured either way.
	healthy := counters[1:]
	// The window starts once every healthy viewer shows frames and the
	// stalled one's SSH window is full: its screen misses calls.
	for _, f := range healthy {
		for n, _, _ := f.read(); n == 0; n, _, _ = f.read() {
			time.Sleep(10 * time.Millisecond)
		}
	}
	for stall && stalled() == 0 {
		time.Sleep(100 * time.Millisecond)
	}
	stalledBefore := stalled()
	cpu0, err := procCPU(srv.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range healthy {
		f.reset()
	}
	b.ResetTimer()
	start := time.Now()
	time.Sleep(window)
	elapsed := time.Since(start)
	cpu1, err := procCPU(srv.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	peak, err := procStatus(srv.Process.Pid, "VmHWM:")
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	stalledMissed := stalled() - stalledBefore

	minFPS, sumFPS := 1e9, 0.0
	var gap time.Duration
	var dropped uint64
	for _, f := range healthy {
		n, g, d := f.read()
		fps := float64(n) / elapsed.Seconds()
		minFPS, sumFPS = min(minFPS, fps), sumFPS+fps
		gap, dropped = max(gap, g), dropped+d
	}
	b.ReportMetric((cpu1-cpu0).Seconds()/elapsed.Seconds(), "serve-cores")
	b.ReportMetric(float64(peak)/(1<<20), "serve-rss-MiB")
	b.ReportMetric(minFPS, "min-fps/viewer")
	b.ReportMetric(sumFPS/float64(len(healthy)), "fps/viewer")
	b.ReportMetric(float64(gap.Milliseconds()), "max-frame-gap-ms")
	b.ReportMetric(float64(dropped), "healthy-dropped")
	b.ReportMetric(float64(stalledMissed), "stalled-dropped")
}

// procCPU is a process's user and system time so far.
func procCPU(pid int) (time.Duration, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// pid (comm) state ppid ...: utime and stime are the 12th and 13th
	// fields after the comm, in clock ticks (100 a second on Linux).
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %q %q", pid, f[11], f[12])
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// procStatus is a kB figure of a process's status, in bytes.
func procStatus(pid int, field string) (uint64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s line", pid, field)
}
