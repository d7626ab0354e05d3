package commands

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"nitro/internal/traceevent"
	"nitro/record"
)

// Export writes a recording in another tool's format: with --perfetto, the
// Trace Event Format's JSON that Perfetto and chrome://tracing open. It
// reads the recording block by block and writes as it reads.
func Export(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	perfetto := fs.Bool("perfetto", false, "write the Trace Event Format (JSON) that Perfetto and chrome://tracing open")
	if err := fs.Parse(args); err != nil {
		return ErrUsage
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("export needs one FILE (%w)", ErrUsage)
	}
	if !*perfetto {
		return fmt.Errorf("export needs a format: --perfetto (%w)", ErrUsage)
	}
	path := fs.Arg(0)
	f, err := record.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if f.Damage != nil {
		fmt.Fprintf(stderr, "nitro: %s: %v\n", path, f.Damage)
	}
	m := f.Meta
	start := m.Start
	if len(f.Blocks) > 0 && f.Blocks[0].FirstTime.Before(start) {
		start = f.Blocks[0].FirstTime // ts stays positive whatever the recorder's clock did
	}
	w, err := traceevent.New(stdout, start, map[string]string{
		"source": "nitro", "domain": m.Domain, "os": m.OS, "kernel": m.Kernel, "listener": m.Listener,
		"syscalls": strings.Join(m.Syscalls, ","), "filter": m.Filter,
	})
	if err != nil {
		return err
	}
	// On a block that cannot be read the output still closes: it holds
	// the calls before it, and the command fails.
	err = exportBlocks(ctx, f.Reader, w)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return err
}

// exportBlocks feeds every block's calls to w, each after the process
// tables taken before it.
func exportBlocks(ctx context.Context, r *record.Reader, w *traceevent.Writer) error {
	for i := range r.Blocks {
		if err := ctx.Err(); err != nil {
			return err
		}
		blk, err := r.Block(i)
		if err != nil {
			return err
		}
		snaps := blk.Snapshots
		for j := range blk.Events {
			for ; len(snaps) > 0 && snaps[0].Before <= j; snaps = snaps[1:] {
				w.Processes(snaps[0].Procs)
			}
			if err := w.Write(&blk.Events[j]); err != nil {
				return err
			}
		}
	}
	return nil
}
