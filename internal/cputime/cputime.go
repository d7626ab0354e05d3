package cputime

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// Used returns the user and system CPU time of every thread of this
// process so far, the garbage collector's included.
func Used() (time.Duration, error) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("reading the process's CPU time: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
