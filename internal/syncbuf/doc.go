// Package syncbuf holds a byte buffer that one goroutine (a server's log,
// a command's stderr) writes while another reads it, as tests watching a
// running program do.
package syncbuf
