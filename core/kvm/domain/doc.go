// Package domain is nitro's one door to libvirt: it lists and looks up
// domains, controls their run state, talks to QEMU's monitor through
// libvirt's passthrough, and finds the QEMU process behind a domain.
package domain
