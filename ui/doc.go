// Package ui is nitro's terminal interface: the Bubble Tea root model that
// owns the screen, handles global keys and forwards the rest to the focused
// view. It talks to the core frontend only, through the interfaces of
// ui/model; Update does no I/O (every session or libvirt call is a tea.Cmd).
//
// Under it: model (the Hypervisor and Session interfaces and their data),
// calls (the bounded ring of system calls and its filter), common (what all
// views share: size, styles, key map), views (the panes) and uitest (a
// synthetic core for tests, benchmarks and the flood demo).
package ui
