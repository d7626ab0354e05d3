package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"nitro/internal/lab"
)

// guest is the lab guest that runs the programs. Its RAM holds the
// initramfs with some 25 MB of programs besides the lab's own.
var guest = lab.Guest{Name: "nitro-strace-tests", Kernel: "6.1", VCPUs: 1, Workload: "strace-tests", Vendor: "AMD", MemMB: 512}

func main() {
	dir := flag.String("dir", "/var/lib/nitro/strace-oracle", "where the source, the build, the guest's programs and the report go")
	only := flag.String("run", "", "only the programs whose names match this regular expression")
	keep := flag.Bool("keep", false, "leave the guest running at the end")
	traceFor := flag.Duration("for", 90*time.Minute, "the longest to trace the guest for")
	flag.Parse()
	var re *regexp.Regexp
	if *only != "" {
		var err error
		if re, err = regexp.Compile(*only); err != nil {
			fmt.Fprintln(os.Stderr, "strace-oracle: -run:", err)
			os.Exit(2)
		}
	}
	// Interrupted, it detaches nitro and takes the guest down before it exits.
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	failed, err := oracle(ctx, *dir, re, *keep, *traceFor)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "strace-oracle:", err)
		os.Exit(2)
	}
	if failed > 0 {
		os.Exit(1)
	}
}

// oracle does it all and returns how many programs failed.
func oracle(ctx context.Context, dir string, only *regexp.Regexp, keep bool, traceFor time.Duration) (int, error) {
	start := time.Now()
	script := filepath.Join(lab.RepoRoot(), "lab", "strace-oracle.sh")
	out, err := command(script, "prepare", dir)
	if err != nil {
		return 0, err
	}
	// check_PROGRAMS names a few programs twice.
	programs := slices.Compact(slices.Sorted(slices.Values(strings.Fields(string(out)))))
	f, err := os.Open(filepath.Join(dir, "src", "tests", "gen_tests.in"))
	if err != nil {
		return 0, err
	}
	gen, err := parseGenTests(f)
	f.Close()
	if err != nil {
		return 0, err
	}

	rep := &report{}
	tests := map[string]test{}
	var list strings.Builder
	for _, p := range programs {
		t, ok := gen[p]
		switch {
		case !ok:
			rep.skip(p, "a test script of its own (not in gen_tests.in)")
		case t.skip != "":
			rep.skip(p, t.skip)
		case only != nil && !only.MatchString(p):
			rep.skip(p, "not asked for (-run)")
		default:
			tests[p] = t
			fmt.Fprintf(&list, "%s %s\n", p, t.args)
		}
	}
	listFile := filepath.Join(dir, "selected.list")
	if err := os.WriteFile(listFile, []byte(list.String()), 0o644); err != nil {
		return 0, err
	}
	fmt.Printf("strace-oracle: %d test programs, %d selected; building them\n", len(programs), len(tests))
	if _, err := command(script, "build", dir, listFile); err != nil {
		return 0, err
	}
	staged, err := os.ReadFile(filepath.Join(dir, "guest", "list"))
	if err != nil {
		return 0, err
	}
	built := map[string]bool{}
	for l := range strings.Lines(string(staged)) {
		if name, _, _ := strings.Cut(strings.TrimSpace(l), " "); name != "" {
			built[name] = true
		}
	}
	for p := range tests {
		if !built[p] {
			rep.skip(p, "did not build here (see build/make.log)")
			delete(tests, p)
		}
	}
	rep.built = len(tests)

	nitro := filepath.Join(dir, "nitro")
	if _, err := commandIn(lab.RepoRoot(), "go", "build", "-o", nitro, "."); err != nil {
		return 0, err
	}
	fmt.Printf("strace-oracle: %d programs built; booting %s\n", len(tests), guest.Name)
	if err := os.Setenv("LAB_STRACE_TESTS", filepath.Join(dir, "guest")); err != nil {
		return 0, err
	}
	if err := guest.Up(); err != nil {
		return 0, err
	}
	if !keep {
		defer guest.Down()
	}
	runs, calls, err := collect(ctx, nitro, filepath.Join(dir, "trace.txt"), tests, traceFor)
	if err != nil {
		return 0, err
	}
	rep.judge(tests, runs, calls)
	rep.took = time.Since(start)

	path := filepath.Join(dir, "report.txt")
	var full bytes.Buffer
	rep.write(&full, true)
	if err := os.WriteFile(path, full.Bytes(), 0o644); err != nil {
		return 0, err
	}
	rep.write(os.Stdout, false)
	fmt.Printf("report: %s\n", path)
	return rep.failed(), nil
}

// collect traces the guest with nitro until it has seen a whole run of
// every program (its execve, so all it did after), and returns the first
// such run of each, and nitro's calls by process. A program nitro never
// saw whole by the deadline has no run.
func collect(ctx context.Context, nitro, out string, tests map[string]test, deadline time.Duration) (map[string]run, map[int][]string, error) {
	cmd := exec.Command(nitro, "-c", lab.URI, "trace", "--format", "text", "--lossless", "-o", out, guest.Name)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := os.Remove(out); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	done := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(done) }()
	stopped := false
	stop := func() error {
		if !stopped {
			stopped = true
			_ = cmd.Process.Signal(syscall.SIGINT)
			<-done
		}
		if waitErr != nil {
			return fmt.Errorf("nitro trace: %w\n%s", waitErr, stderr.Bytes())
		}
		return nil
	}
	// On an error the guest must not stay traced; that error says more
	// than nitro's exit.
	defer func() { _ = stop() }()

	// The console before nitro's first call tells of runs it did not see.
	attached := false
	var serial, trace tail
	var runs runParser
	var calls callParser
	chosen := map[string]run{}
	// take reads what the console and nitro wrote since the last time and
	// keeps each program's first run whose execve nitro saw.
	take := func() error {
		text, err := serial.read(guest.SerialPath())
		if err != nil {
			return err
		}
		runs.feed(text)
		if text, err = trace.read(out); err != nil {
			return err
		}
		calls.feed(text)
		for _, r := range runs.runs {
			if _, ok := chosen[r.name]; ok {
				continue
			}
			if _, ok := nitroLines(tests[r.name], calls.calls[r.pid]); ok {
				chosen[r.name] = r
			}
		}
		runs.runs = runs.runs[:0]
		return nil
	}
	start, last := time.Now(), time.Now()
	for len(chosen) < len(tests) {
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-done:
			return nil, nil, fmt.Errorf("nitro trace ended early: %w", stop())
		case <-time.After(5 * time.Second):
		}
		if !attached {
			if fi, err := os.Stat(out); err != nil || fi.Size() == 0 {
				continue
			}
			n, err := guest.SerialSize()
			if err != nil {
				return nil, nil, err
			}
			attached, serial.off = true, int64(n)
			fmt.Println("strace-oracle: nitro attached; tracing the programs")
		}
		if err := take(); err != nil {
			return nil, nil, err
		}
		if time.Since(last) > time.Minute {
			last = time.Now()
			fmt.Printf("strace-oracle: %d of %d programs traced whole, %s\n", len(chosen), len(tests), time.Since(start).Round(time.Second))
		}
		if time.Since(start) > deadline {
			fmt.Printf("strace-oracle: stopping after %s with %d programs not traced whole\n", deadline, len(tests)-len(chosen))
			break
		}
	}
	if err := stop(); err != nil {
		return nil, nil, err
	}
	if err := take(); err != nil { // what nitro wrote as it stopped
		return nil, nil, err
	}
	return chosen, calls.calls, nil
}

// tail reads a growing file from where it last stopped.
type tail struct{ off int64 }

func (t *tail) read(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.NewSectionReader(f, t.off, 1<<62))
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	t.off += int64(len(b))
	return string(b), nil
}

func command(name string, args ...string) ([]byte, error) { return commandIn("", name, args...) }

// commandIn runs a command in dir and returns its standard output; its
// standard error goes to ours.
func commandIn(dir, name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return out, nil
}

// statusText is a run's exit status as the shell gave it: signals as 128+N.
func statusText(status int) string {
	if status > 128 {
		return strconv.Itoa(status) + " (" + syscall.Signal(status-128).String() + ")"
	}
	return strconv.Itoa(status)
}
