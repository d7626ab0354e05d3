// Package views holds the TUI's panes (domains, syscalls, process tree,
// inspector), each a tea.Model with its own key help and size, plus the
// status bar and the one-line prompt they share, and a call's manual (a box
// over the panes).
package views
