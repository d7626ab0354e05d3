package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"text/tabwriter"
	"time"
)

// result is one kernel's line of the report.
type result struct {
	kernel
	outcome
	err  error
	took time.Duration
}

func main() {
	cache := flag.String("cache", "/var/cache/nitro/kernels", "where downloaded kernel images are kept")
	jobs := flag.Int("jobs", runtime.NumCPU(), "kernels checked at once (each takes a few hundred MB)")
	flag.Parse()

	start := time.Now()
	ks, err := listKernels()
	if err == nil {
		err = fetch(*cache, ks)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kmatrix:", err)
		os.Exit(2)
	}
	fetched := time.Since(start)
	results := checkAll(ks, max(1, *jobs))
	if failed := report(os.Stdout, results, fetched, time.Since(start)); failed > 0 {
		os.Exit(1)
	}
}

// checkAll checks the kernels, jobs at a time, and returns their results
// in the kernels' order.
func checkAll(ks []kernel, jobs int) []result {
	results := make([]result, len(ks))
	next := make(chan int)
	var wg sync.WaitGroup
	for range jobs {
		wg.Go(func() {
			for i := range next {
				results[i] = checkKernel(ks[i])
			}
		})
	}
	for i := range ks {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

func checkKernel(k kernel) result {
	start := time.Now()
	r := result{kernel: k}
	image, err := os.ReadFile(k.vmlinuz)
	if err == nil {
		r.outcome, err = check(image)
	}
	r.err, r.took = err, time.Since(start)
	return r
}

// report prints one line per kernel and a summary, and returns the number
// of kernels that failed.
func report(w io.Writer, results []result, fetched, total time.Duration) int {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "PACKAGE\tVERSION\tSERIES\tFLAVOUR\tLAYOUT\tSYMBOLS\tBTF\tTIME\tRESULT")
	failed := 0
	for _, r := range results {
		verdict := "pass"
		if r.err != nil {
			failed++
			verdict = "FAIL: " + r.err.Error()
		}
		layout := "-"
		if r.layout != 0 {
			layout = r.layout.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%.1f MiB\t%.1fs\t%s\n", r.pkg, r.version, r.series, r.flavour,
			layout, r.symbols, float64(r.btf)/(1<<20), r.took.Seconds(), verdict)
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%d of %d kernels pass; %s fetching, %s in all\n", len(results)-failed, len(results),
		fetched.Round(time.Second), total.Round(time.Second))
	return failed
}
