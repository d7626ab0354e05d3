package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// target is one fuzz function and the package it is in.
type target struct{ pkg, name string }

func main() {
	total := flag.Duration("total", 10*time.Minute, "time for all targets together")
	each := flag.Duration("each", 0, "time for each target (overrides -total)")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: fuzzall [-total D | -each D] PACKAGE...")
		os.Exit(2)
	}
	targets, err := list(flag.Args())
	if err != nil {
		fmt.Fprintln(os.Stderr, "fuzzall:", err)
		os.Exit(1)
	}
	if len(targets) == 0 {
		fmt.Fprintln(os.Stderr, "fuzzall: no fuzz targets")
		os.Exit(1)
	}
	per := *each
	if per <= 0 {
		per = max((*total / time.Duration(len(targets))).Truncate(time.Second), time.Second)
	}
	fmt.Printf("fuzzall: %d fuzz targets, %v each\n", len(targets), per)
	var failed []string
	for i, t := range targets {
		fmt.Printf("=== [%d/%d] %s %s\n", i+1, len(targets), t.pkg, t.name)
		// Building the test binary is not fuzzing time: the timeout leaves
		// room for it and for minimizing a crash. Minimizing a new input
		// gets a third of the target's time: at go's default (a minute) a
		// target whose inputs run slowly (a client waiting on its
		// timeouts) is still minimizing when its time is up, and the run
		// fails with "context deadline exceeded".
		cmd := exec.Command("go", "test", "-run", "^$", "-fuzz", "^"+t.name+"$",
			"-fuzztime", per.String(), "-fuzzminimizetime", max(per/3, time.Second).String(),
			"-timeout", (per + 10*time.Minute).String(), t.pkg)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			failed = append(failed, t.pkg+" "+t.name)
		}
	}
	fmt.Printf("fuzzall: %d fuzz targets run, %d failed\n", len(targets), len(failed))
	for _, f := range failed {
		fmt.Println("FAIL", f)
	}
	if len(failed) > 0 {
		os.Exit(1)
	}
}

// list finds the fuzz targets with `go test -list`, which prints a
// package's matching names and then its "ok" line.
func list(pkgs []string) ([]target, error) {
	cmd := exec.Command("go", append([]string{"test", "-list", "^Fuzz"}, pkgs...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go test -list: %w", err)
	}
	var targets []target
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 1 && strings.HasPrefix(f[0], "Fuzz"):
			names = append(names, f[0])
		case len(f) >= 2 && (f[0] == "ok" || f[0] == "?"):
			for _, n := range names {
				targets = append(targets, target{f[1], n})
			}
			names = nil
		}
	}
	return targets, sc.Err()
}
