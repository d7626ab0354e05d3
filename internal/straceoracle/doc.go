// Command straceoracle holds nitro's text against strace's own test suite:
// the C programs under tests/ of Debian's strace 6.1 source, each of which
// makes calls and prints the lines strace must show for them.
//
// It fetches and configures the source (lab/strace-oracle.sh prepare),
// reads tests/gen_tests.in to pick the programs whose test needs no strace
// option beyond the defaults, -a (alignment) and -e trace= (and those of
// the driver scripts ioctl.test, prctl.sh and getuid.test, whose edits of
// strace's log it repeats), builds them (lab/strace-oracle.sh build), and
// boots the lab guest nitro-strace-tests (LAB_WORKLOAD=strace-tests),
// whose init runs them in rounds, untraced, and prints each one's output
// to the console between markers naming its pid and exit status. It then
// runs `nitro trace --format text` on the guest until nitro has seen a run
// of every program from its execve on (a run that began before nitro
// attached is taken from the next round), and for each program compares
// nitro's calls of that run's pid after its execve, filtered by its
// -e trace= set, with the lines the program printed.
//
// The comparison takes out only what strace's test driver does not
// compare or nitro cannot show: the padding before " = " (-a), the
// "+++ exited" lines and signal deliveries ("--- SIG..."; nitro sees
// calls only). Addresses and pids need no normalising: the program
// prints them from the very run nitro traced.
//
// It writes a report, one block per program (pass, fail with the first
// difference, or skip with the reason), to DIR/report.txt, prints the
// summary (programs in the suite, skipped by reason, built, run, passed,
// failed, failures by cause) and exits 1 if any program failed. A
// failure's cause classes the first argument that differs: a structure
// nitro shows as a pointer, a constant strace names and nitro shows as a
// number, a number in another base or width, octal against hex escapes,
// and so on.
//
//	go run ./internal/straceoracle [-dir /var/lib/nitro/strace-oracle] [-run REGEXP] [-for 90m] [-keep]
//
// `make strace-oracle` runs it; it needs root, libvirt and the lab's
// packages, and it is not part of `make test`.
package main
