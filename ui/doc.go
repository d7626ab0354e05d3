// Package ui is nitro's terminal interface: the Bubble Tea root model that
// owns the screen, handles global keys and forwards the rest to the focused
// view. It reaches guests only through package api's Hypervisor and Session;
// Update does no I/O (every session or libvirt call is a tea.Cmd).
//
// Under it: calls (the bounded ring of system calls and its filter), common
// (what all views share: size, styles, key map), views (the panes) and
// uitest (a synthetic hypervisor and session for tests, benchmarks and the
// flood demo).
package ui
