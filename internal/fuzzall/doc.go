// Command fuzzall runs every fuzz target of the packages it is given, one
// at a time (the fuzzer takes every core), and fails if any finds a crash.
// `make fuzz` runs it.
//
//	go run ./internal/fuzzall [-total 10m | -each 30s] PACKAGE...
//
// With -total, the time is shared evenly by the targets found; -each gives
// every target that long instead. A crash leaves its input under the
// package's testdata/fuzz, where plain `go test` replays it from then on.
package main
