// Package cputime reads the CPU time this process has used, for benchmarks
// that report work per CPU-second: on a shared, loaded host that moves far
// less than work per wall-clock second, since time spent waiting for a core
// does not count.
package cputime
