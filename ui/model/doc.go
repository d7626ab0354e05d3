// Package model is the UI's side of the core boundary: the Hypervisor and
// Session interfaces the core frontend implements for the UI, and the plain
// data they carry. It imports nothing of the UI.
package model
