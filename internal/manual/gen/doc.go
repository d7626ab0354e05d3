// Command gen writes package manual's tables from the host: zmanual.go (the
// Linux man-pages' section 2 texts of every call nitro names, and the errno
// texts) and LICENSE.man-pages (those pages' copyright notices and licences).
// Run it with `go generate ./internal/manual` on Debian with manpages-dev and
// man-db installed (apt-get install manpages-dev man-db).
//
// The pages are rendered to plain text by man-db's man (groff underneath,
// with tbl and the other preprocessors a page asks for), at a line length
// no paragraph reaches: a filled paragraph comes out as one line, so the
// TUI wraps it to its own width, and the roff markup is gone without a roff
// parser here. gen then only splits that text into its sections.
package main
