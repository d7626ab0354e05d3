// Package core is nitro's frontend, the seed's Nitro class: it opens a
// domain's listener, guest memory and back end as one, hands out the stream
// of system calls, and on every way out (Close, error, signal, lost
// connection, even SIGKILL through a guard process) leaves the guest running
// with no breakpoints. The UI and the commands use this package only.
package core
