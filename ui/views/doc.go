// Package views holds the TUI's panes (domains, syscalls, process tree,
// inspector); each is a tea.Model with its own key help and size.
package views
