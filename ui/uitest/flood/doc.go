// Command flood runs nitro's UI over the synthetic core at a given event
// rate: interactively, to watch it in a terminal, or headless for a fixed
// time (-for), to measure it. Headless it runs the production path (ui.New
// under a real tea.Program, the session's batches, the standard renderer)
// with the screen fixed at 80x24 and its output discarded, presses keys
// through Program.Send at a steady pace, and prints a report: peak RSS, the
// time of each View, and each key's latency, beside their goals.
//
//	go run ./ui/uitest/flood                  # interactive, 100k events/s
//	go run ./ui/uitest/flood -for 30s         # the report `make bench` prints
//
// Missed goals do not fail it: it exits non-zero only on errors.
package main
