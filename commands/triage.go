package commands

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"nitro/api"
	"nitro/triage"
)

// ErrFound is triage's verdict: a finding at or above --severity. main
// exits with status 2 for it, 1 for any other error.
var ErrFound = errors.New("findings at or above the chosen severity")

// Triage runs the rules (the built-in set, and --rules over it) on a
// guest's calls, or a recording's with --from, until --duration or ctx
// ends, and prints the findings as JSON lines, most severe first, each
// with its evidence calls. It returns ErrFound when one is at or above
// --severity.
func Triage(ctx context.Context, h api.Hypervisor, args []string, stdout io.Writer) error {
	fs, sf, from := engineFlags("triage")
	rulesFile := fs.String("rules", "", "load these rules (JSON, see triage/doc.go) over the built-in ones")
	sevName := fs.String("severity", "warning", "exit with status 2 when a finding is at least this severe: "+
		"debug, informational, notice, warning, error, critical, alert, emergency")
	if err := fs.Parse(args); err != nil {
		return ErrUsage
	}
	sev, err := triage.ParseSeverity(*sevName)
	if err != nil {
		return err
	}
	rules := triage.Builtin()
	if *rulesFile != "" {
		if rules, err = triage.LoadFile(rules, *rulesFile); err != nil {
			return err
		}
	}
	h, domain, err := source(h, *from, fs.Args(), "triage")
	if err != nil {
		return err
	}
	ts := &triageSink{eng: triage.New(rules), out: stdout, at: sev}
	if err := sf.follow(ctx, h, domain, ts); err != nil {
		return err
	}
	if ts.over > 0 {
		return ErrFound
	}
	return nil
}

// Activity prints what a guest's processes did, as JSON lines, once
// --duration or ctx ends: `activity files` the paths each opened,
// created, renamed or unlinked, with mode, result and count; `activity
// network` each socket with its addresses and bytes; `activity exec` the
// exec lineage, a tree per line, exited processes included.
func Activity(ctx context.Context, h api.Hypervisor, args []string, stdout io.Writer) error {
	if len(args) == 0 || !slices.Contains(activityViews, args[0]) {
		return fmt.Errorf("activity needs a view: %s (%w)", strings.Join(activityViews, ", "), ErrUsage)
	}
	fs, sf, from := engineFlags("activity " + args[0])
	if err := fs.Parse(args[1:]); err != nil {
		return ErrUsage
	}
	h, domain, err := source(h, *from, fs.Args(), "activity")
	if err != nil {
		return err
	}
	eng := triage.New(triage.Builtin())
	eng.KeepActivity()
	return sf.follow(ctx, h, domain, &triageSink{eng: eng, out: stdout, view: args[0]})
}

var activityViews = []string{"files", "network", "exec"}

// engineFlags are the flags of the commands that run the triage engine.
func engineFlags(name string) (*flag.FlagSet, *streamFlags, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	sf := &streamFlags{}
	fs.DurationVar(&sf.duration, "duration", 0, "stop after this long (default: until Ctrl+C, or a recording's end)")
	from := fs.String("from", "", "read the calls from this recording (nitro record) instead of a guest; DOMAIN may be left out")
	fs.BoolVar(&sf.lossless, "lossless", false, "make the guest wait for nitro rather than drop calls it falls behind on")
	return fs, sf, from
}

// triageSink feeds the calls to the engine and prints its findings at
// the end.
type triageSink struct {
	eng  *triage.Engine
	out  io.Writer
	at   triage.Severity
	over int    // findings at or above at
	view string // an activity view to print instead of the findings
	// sess lists the processes at the first call, and every relist of
	// the calls' time after (listed): hidden ones are findings.
	ctx     context.Context
	sess    api.Session
	listed  time.Time
	listErr error // the latest listing after the first that failed
}

// relist is how often triage lists the guest's processes, to find the
// hidden ones (triage.Engine.Listed).
const relist = 2 * time.Second

func (t *triageSink) attached(ctx context.Context, sess api.Session) error {
	t.ctx, t.sess = ctx, sess
	return nil
}

// write feeds a call to the engine; before the first, the engine gets
// the processes running, the parents of what they start (a replay lists
// them once it plays), and every relist the listing's hidden processes.
func (t *triageSink) write(sc *api.Syscall) error {
	if t.sess != nil && (t.listed.IsZero() || sc.Time.Sub(t.listed) >= relist) {
		first := t.listed.IsZero()
		t.listed = sc.Time
		ps, err := t.sess.Processes(t.ctx)
		switch {
		case err != nil && first:
			return fmt.Errorf("listing the guest's processes: %w", err)
		case err != nil:
			t.listErr = err
		case first:
			t.eng.Seed(ps)
			fallthrough
		default:
			t.eng.Listed(ps, sc.Time)
		}
	}
	t.eng.Feed(sc)
	return nil
}

func (t *triageSink) flush() error { return nil }

func (t *triageSink) end() error {
	enc := json.NewEncoder(t.out)
	enc.SetEscapeHTML(false) // evidence reads as strace prints it: "->", not "\u003e"
	if t.view != "" {
		return t.printView(enc)
	}
	found := t.eng.Findings()
	for i := range found {
		if found[i].Severity >= t.at {
			t.over++
		}
		if err := enc.Encode(&found[i]); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "nitro: %d findings, %d at or above %s\n", len(found), t.over, t.at)
	if t.eng.Dropped > 0 {
		fmt.Fprintf(os.Stderr, "nitro: %d more findings not kept (at most %d)\n", t.eng.Dropped, len(found))
	}
	if t.listErr != nil {
		fmt.Fprintf(os.Stderr, "nitro: listing the guest's processes failed, hidden ones may be missed: %v\n", t.listErr)
	}
	if t.eng.EvalErrors > 0 {
		fmt.Fprintf(os.Stderr, "nitro: %d rule evaluations failed (a condition read past a call's arguments?)\n", t.eng.EvalErrors)
	}
	return nil
}

// printView prints the activity view asked for, a row per line.
func (t *triageSink) printView(enc *json.Encoder) error {
	var err error
	switch t.view {
	case "files":
		err = encodeAll(enc, t.eng.Files())
	case "network":
		err = encodeAll(enc, t.eng.Network())
	default:
		err = encodeAll(enc, t.eng.Execs())
	}
	if d := t.eng.ActivityDropped(); d > 0 {
		fmt.Fprintf(os.Stderr, "nitro: %d rows not kept: the view is full\n", d)
	}
	return err
}

func encodeAll[T any](enc *json.Encoder, rows []T) error {
	for i := range rows {
		if err := enc.Encode(&rows[i]); err != nil {
			return err
		}
	}
	return nil
}
