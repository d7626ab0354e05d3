// Package manual explains a system call to a person: what each Linux call
// nitro names does, its synopsis, return value and errors (from the Linux
// man-pages, section 2), what an errno means, and what the common flags of
// its arguments mean. It is data and lookups, with no import of the engine:
// the TUI's inspector and its manual view read it.
//
// zmanual.go is generated on a Debian host with manpages-dev and man-db
// (apt-get install manpages-dev man-db) by
//
//	go generate ./internal/manual
//
// which reads nitro's system call tables and errno names from the Linux back
// end's sources and writes LICENSE.man-pages, the pages' licences, with it.
// flags.go is written by hand.
package manual

//go:generate go run ./gen
