// Package escape renders guest bytes safe for a terminal or a log line: the
// guest is hostile input, and a process name or buffer may hold escape
// sequences meant for the viewer's terminal.
package escape
