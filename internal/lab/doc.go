// Package lab drives the lab guests (lab/lab.sh) for end-to-end tests: it
// boots each guest once per test run, and reads and waits on its serial log,
// which is the guest's own account of what it did.
package lab
