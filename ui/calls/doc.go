// Package calls keeps the system call stream the UI shows: a bounded ring of
// rows in which an exit completes its entry in place, an index of the rows a
// filter keeps, and per-process call counts.
package calls
