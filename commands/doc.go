// Package commands holds nitro's commands that print to a terminal or a
// file: domains, ps, trace, record, symbols, profile and detach. Each is a
// face of the API: it reaches guests through an api.Hypervisor only (a
// live one, or a recording played by package replay), and prints guest
// bytes escaped.
package commands
