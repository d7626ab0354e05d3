// Package ui is nitro's terminal interface: the Bubble Tea root model that
// owns the screen, handles global keys and forwards the rest to the focused
// view. It talks to the core frontend only.
package ui
