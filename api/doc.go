// Package api is what every face of nitro uses: the TUI, the commands, and
// whatever else shows a guest to a person or a script. It holds the system
// call event with its rendered texts, processes, held calls, edits,
// breakpoints, statistics, the domain list and run control, and the
// interfaces of a hypervisor connection and of an attached session.
//
// It imports nothing of the engine (core and below): package core implements
// these interfaces, and a test keeps the faces from reaching past them.
package api
