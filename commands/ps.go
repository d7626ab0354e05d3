package commands

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"nitro/api"
	"nitro/internal/escape"
)

// psEntry is one process of `nitro ps`, its threads grouped under it.
type psEntry struct {
	PID     int        `json:"pid"`
	PPID    int        `json:"ppid"`
	UID     uint32     `json:"uid"`
	Comm    string     `json:"comm"`
	Image   string     `json:"image,omitempty"` // the program's full path, where the back end knows it
	Threads []psThread `json:"threads,omitempty"`
	// notThread says the process's own row is none of its threads
	// (api.Process.NotThread): THREADS counts Threads alone.
	notThread bool
}

type psThread struct {
	TID  int    `json:"tid"`
	Comm string `json:"comm"`
}

// PS lists a guest's processes, read from its memory: a table, a tree
// (--tree) or JSON (--json).
func PS(ctx context.Context, h api.Hypervisor, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("ps", flag.ContinueOnError)
	tree := fs.Bool("tree", false, "show processes as a tree of parents and children")
	asJSON := fs.Bool("json", false, "print JSON: one array of processes with their threads")
	if err := fs.Parse(args); err != nil {
		return ErrUsage
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("ps needs one DOMAIN (%w)", ErrUsage)
	}
	g, err := h.Inspect(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	defer g.Close()
	tasks, err := g.Processes(ctx)
	if err != nil {
		return err
	}
	procs := groupThreads(tasks)
	switch {
	case *asJSON:
		// encoding/json lets DEL, C1 controls and bidi overrides through:
		// comm is escaped as trace's JSON escapes it.
		for i := range procs {
			p := &procs[i]
			p.Comm, p.Image = escape.String(p.Comm), escape.String(p.Image)
			for j := range p.Threads {
				p.Threads[j].Comm = escape.String(p.Threads[j].Comm)
			}
		}
		return json.NewEncoder(stdout).Encode(procs)
	case *tree:
		return printTree(stdout, procs)
	}
	return printTable(stdout, procs)
}

// groupThreads turns a task list into processes, each leader with its threads.
func groupThreads(tasks []api.Process) []psEntry {
	byPID := map[int]int{}
	var procs []psEntry
	for _, t := range tasks {
		if t.TID != t.PID {
			continue
		}
		byPID[t.PID] = len(procs)
		procs = append(procs, psEntry{PID: t.PID, PPID: t.PPID, UID: t.UID, Comm: t.Comm, Image: t.Image, notThread: t.NotThread})
	}
	for _, t := range tasks {
		if i, ok := byPID[t.PID]; ok && t.TID != t.PID {
			procs[i].Threads = append(procs[i].Threads, psThread{TID: t.TID, Comm: t.Comm})
		}
	}
	return procs
}

// threads is how many threads p has: its own row's too, unless that row
// stands for the process alone.
func (p *psEntry) threads() int {
	if p.notThread {
		return len(p.Threads)
	}
	return 1 + len(p.Threads)
}

func printTable(w io.Writer, procs []psEntry) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "PID\tPPID\tUID\tTHREADS\tCOMM")
	for _, p := range procs {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%s\n", p.PID, p.PPID, p.UID, p.threads(), escape.String(p.Comm))
	}
	return tw.Flush()
}

func printTree(w io.Writer, procs []psEntry) error {
	children := map[int][]psEntry{}
	known := map[int]bool{}
	for _, p := range procs {
		known[p.PID] = true
	}
	var roots []psEntry
	for _, p := range procs {
		if known[p.PPID] && p.PPID != p.PID {
			children[p.PPID] = append(children[p.PPID], p)
		} else {
			roots = append(roots, p)
		}
	}
	seen := map[int]bool{} // a hostile guest can make parents loop
	var walk func(p psEntry, depth int)
	walk = func(p psEntry, depth int) {
		if seen[p.PID] {
			return
		}
		seen[p.PID] = true
		image := ""
		if p.Image != "" {
			image = " " + escape.String(p.Image)
		}
		fmt.Fprintf(w, "%s%d %s%s\n", strings.Repeat("  ", depth), p.PID, escape.String(p.Comm), image)
		for _, t := range p.Threads {
			fmt.Fprintf(w, "%s  {%d %s}\n", strings.Repeat("  ", depth), t.TID, escape.String(t.Comm))
		}
		kids := children[p.PID]
		slices.SortFunc(kids, func(a, b psEntry) int { return a.PID - b.PID })
		for _, c := range kids {
			walk(c, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 0)
	}
	return nil
}
