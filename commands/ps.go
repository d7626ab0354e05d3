package commands

import (
	"context"
	"encoding/json"
	"errors"
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
	PID   int    `json:"pid"`
	PPID  int    `json:"ppid"`
	UID   uint32 `json:"uid"`
	Comm  string `json:"comm"`
	Image string `json:"image,omitempty"` // the program's full path, where the back end knows it
	// Hidden names the views of the guest's tasks that hold the process
	// and those that lack it, when they disagree.
	Hidden  *api.Hiding `json:"hidden,omitempty"`
	Threads []psThread  `json:"threads,omitempty"`
	// notThread says the process's own row is none of its threads
	// (api.Process.NotThread): THREADS counts Threads alone.
	notThread bool
}

type psThread struct {
	TID  int    `json:"tid"`
	Comm string `json:"comm"`
}

// ErrHidden is ps --hidden's verdict: the guest hides tasks. main exits
// with status 2 for it, as for triage's findings.
var ErrHidden = errors.New("the guest hides tasks")

// hiddenTask is one row of ps --hidden: a task, process or thread, that
// some views of the guest's tasks hold and others lack.
type hiddenTask struct {
	PID     int      `json:"pid"`
	TID     int      `json:"tid"`
	PPID    int      `json:"ppid"`
	UID     uint32   `json:"uid"`
	Comm    string   `json:"comm"`
	In      []string `json:"in"`
	Missing []string `json:"missing"`
}

// PS lists a guest's processes, read from its memory: a table, a tree
// (--tree) or JSON (--json); with --hidden, only the tasks the guest's
// views of its tasks disagree on, returning ErrHidden when there are any.
func PS(ctx context.Context, h api.Hypervisor, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("ps", flag.ContinueOnError)
	tree := fs.Bool("tree", false, "show processes as a tree of parents and children")
	asJSON := fs.Bool("json", false, "print JSON: one array of processes with their threads")
	hidden := fs.Bool("hidden", false, "list only the tasks some of the kernel's views hold and others lack "+
		"(task list, pid table, run queues): hidden by a rootkit; exit status 2 when there are any")
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
	if *hidden {
		return printHidden(stdout, tasks, *asJSON)
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
		procs = append(procs, psEntry{PID: t.PID, PPID: t.PPID, UID: t.UID, Comm: t.Comm, Image: t.Image, Hidden: t.Hidden, notThread: t.NotThread})
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
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%s%s\n", p.PID, p.PPID, p.UID, p.threads(), escape.String(p.Comm), hiddenNote(p.Hidden))
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
		fmt.Fprintf(w, "%s%d %s%s%s\n", strings.Repeat("  ", depth), p.PID, escape.String(p.Comm), image, hiddenNote(p.Hidden))
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

// hiddenNote is what the table and the tree add after a hidden process.
func hiddenNote(h *api.Hiding) string {
	if h == nil {
		return ""
	}
	return "  HIDDEN: " + h.String()
}

// printHidden prints the hidden tasks, a table or JSON, and returns
// ErrHidden when there are any.
func printHidden(w io.Writer, tasks []api.Process, asJSON bool) error {
	rows := []hiddenTask{}
	for _, t := range tasks {
		if t.Hidden != nil {
			rows = append(rows, hiddenTask{PID: t.PID, TID: t.TID, PPID: t.PPID, UID: t.UID, Comm: escape.String(t.Comm),
				In: t.Hidden.In, Missing: t.Hidden.Missing})
		}
	}
	if asJSON {
		if err := json.NewEncoder(w).Encode(rows); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "PID\tTID\tPPID\tUID\tCOMM\tIN\tMISSING FROM")
		for _, r := range rows {
			fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%s\t%s\t%s\n", r.PID, r.TID, r.PPID, r.UID, r.Comm,
				strings.Join(r.In, ", "), strings.Join(r.Missing, ", "))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(rows) > 0 {
		return fmt.Errorf("%w (%d)", ErrHidden, len(rows))
	}
	return nil
}
