// Package serve serves nitro's terminal interface over SSH (nitro serve):
// each SSH session gets its own screen, and every screen on one domain is
// fed by one attached session, attached when its first viewer opens it and
// detached when its last one leaves. Only public keys get in; keys of the
// authorized-keys file watch, keys of the controllers file may also change
// the guest, one action at a time, each written to an audit log.
//
// Like the other faces it reaches guests through package api only.
package serve
