// Command benchsum condenses `go test -bench` output into the short report
// `make bench` prints: per package, each benchmark's time per op and the
// figures it reports itself, then the ratios that have a goal, met or not.
// A benchmark that failed makes it exit 1, after the report; a goal missed
// does not: the report is for people, speed is not a pass/fail test here.
//
//	go run ./internal/benchsum bench.txt
package main
