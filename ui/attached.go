package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"nitro/api"
	"nitro/internal/escape"
	"nitro/ui/calls"
	"nitro/ui/common"
	"nitro/ui/views"
)

// maxDrain bounds how many waiting events one Update takes, so a flood
// cannot starve key handling and redraws.
const maxDrain = 50_000

// Messages of the attached screen. Each carries its session so a message
// from a session already detached is dropped.
type (
	batchMsg struct {
		sess api.Session
		ch   <-chan []api.Syscall // the channel it came from: a playback's move replaces it
		// batches are the session's as it handed them over, in order: not
		// joined, since a copy would cost more than the store's own.
		batches [][]api.Syscall
		end     bool  // the session's batch channel closed
		err     error // with end: how the session's Run ended, when it did soon after
	}
	heldMsg struct {
		sess api.Session
		held api.Held
	}
	// releasedMsg says the held call of that seq ran on (api.Held.Done).
	releasedMsg struct {
		sess api.Session
		seq  uint64
	}
	tickMsg struct {
		sess api.Session
		at   time.Time
	}
	snapMsg struct {
		sess  api.Session
		ch    <-chan []api.Syscall // the batches read when it was asked for
		at    time.Time            // the tick's time; zero for the snapshot at attach or after a move
		taken time.Time            // when the process list was asked for
		stats api.Stats
		procs []api.Process
		err   error
	}
	// runEndMsg says the session's event loop failed.
	runEndMsg struct {
		sess api.Session
		err  error
	}
	// reattachedMsg is the new session (or the error) of a re-attach of
	// the screen whose session, old, lost its connection.
	reattachedMsg struct {
		old, sess api.Session
		err       error
	}
	// doneMsg is the result of a session command; apply runs in Update on
	// success and changes only the model.
	doneMsg struct {
		sess  api.Session
		note  string
		err   error
		apply func(*attached)
	}
)

// attached is the screen of one session: syscall pane, process tree,
// inspector, status.
type attached struct {
	c        *common.Common
	sess     api.Session
	sub      api.Subscription
	info     api.Info
	ctx      context.Context // ends when the screen is left: the waits stop
	cancel   context.CancelFunc
	syscalls *views.Syscalls
	procs    *views.Processes
	insp     *views.Inspector
	man      *views.Manual // the shown call's man page, over the panes when open
	panes    []paneView
	focus    int
	store    *calls.Store
	snapshot []api.Process
	snapAt   time.Time // when snapshot was asked for; zero before the first
	stats    api.Stats
	rate     float64
	last     time.Time // when the previous snapshot was taken
	breaks   []api.Breakpoint
	query    string       // the filter bar's text
	filter   calls.Filter // parsed from it
	pid      int          // the process chosen in the tree
	bottomH  int          // height of the process tree and inspector row
	// batches is the channel of sub being read; a playback's move replaces
	// it, and stopWait ends the wait (waitCtx) on the one it replaced.
	batches  <-chan []api.Syscall
	waitCtx  context.Context
	stopWait context.CancelFunc
	pb       api.Playback // a replay's; nil for a live guest
	pos      api.Position // pb's, as of the last batch
	rec      *recorder    // made at the first recording
	recPath  string       // the file being recorded to; "" when none
	recBusy  bool         // a recording starts or stops
	tri      *triageView  // findings and activity, and their pane
	name     string       // the domain as attached: a re-attach asks for it again
	ran      *runResult   // the session's Run
	// lost says why the connection to the guest's host dropped ("" while
	// it holds); the screen stays, with what it showed, until a re-attach.
	lost        string
	reattaching bool
	// seqBase is added to the session's seqs, which a re-attached session
	// starts again from 1, so that they follow those shown (lastSeq).
	seqBase, lastSeq uint64
}

// runResult is a session's Run once it returned: err is set before done
// closes.
type runResult struct {
	done chan struct{}
	err  error
}

// runEndWait bounds how long a batch channel's end waits for the Run that
// ended it: a session closes its readers' channels as its Run returns.
const runEndWait = time.Second

// wait is Run's error once it returned, nil when it did not in runEndWait.
func (r *runResult) wait() error {
	select {
	case <-r.done:
		return r.err
	case <-time.After(runEndWait):
		return nil
	}
}

// paneView is a pane of the attached screen.
type paneView interface {
	common.Component
	SetFocused(bool)
}

func newAttached(c *common.Common, s api.Session, name string, history int) *attached {
	ctx, cancel := context.WithCancel(c.Ctx)
	store := calls.New(history)
	a := &attached{
		c: c, sess: s, sub: s.Subscribe(store.Limit(), api.Lossy), info: s.Info(), ctx: ctx, cancel: cancel, store: store,
		syscalls: views.NewSyscalls(c, store),
		procs:    views.NewProcesses(c, store),
		insp:     views.NewInspector(c),
		man:      views.NewManual(c),
		tri:      newTriageView(c),
		name:     name,
		ran:      &runResult{done: make(chan struct{})},
	}
	a.panes = []paneView{a.syscalls, a.procs, a.insp}
	a.batches = a.sub.C()
	a.waitCtx, a.stopWait = context.WithCancel(ctx)
	a.pb, _ = s.(api.Playback)
	a.setFocus(0)
	return a
}

// start runs the session, begins reading batches and held calls, and
// takes a first snapshot.
func (a *attached) start(every time.Duration) tea.Cmd {
	return tea.Batch(a.runSession(), a.waitBatch(), a.waitHeld(), a.snapshotCmd(time.Time{}), a.tick(every))
}

// runSession runs the session's event loop for as long as it lasts; its end
// shows through the subscription closing.
func (a *attached) runSession() tea.Cmd {
	s, ran := a.sess, a.ran
	return func() tea.Msg {
		ran.err = s.Run(context.Background())
		close(ran.done)
		if ran.err != nil {
			return runEndMsg{sess: s, err: ran.err}
		}
		return nil
	}
}

func (a *attached) waitBatch() tea.Cmd {
	ctx, s, ch, ran := a.waitCtx, a.sess, a.batches, a.ran
	return func() tea.Msg {
		select {
		case <-ctx.Done():
			return nil
		case b, ok := <-ch:
			if !ok {
				return batchMsg{sess: s, ch: ch, end: true, err: ran.wait()}
			}
			// Take what else is already waiting: one Update per backlog.
			msg := batchMsg{sess: s, ch: ch, batches: [][]api.Syscall{b}}
			for n := len(b); n < maxDrain; n += len(b) {
				select {
				case b, ok = <-ch:
					if !ok {
						return msg
					}
					msg.batches = append(msg.batches, b)
				default:
					return msg
				}
			}
			return msg
		}
	}
}

func (a *attached) waitHeld() tea.Cmd {
	ctx, s, ch := a.ctx, a.sess, a.sess.Held()
	return func() tea.Msg {
		select {
		case <-ctx.Done():
			return nil
		case h, ok := <-ch:
			if !ok { // the session ended
				return nil
			}
			return heldMsg{s, h}
		}
	}
}

// waitReleased waits for h to run on, when its session says (a shared one):
// whoever continued it, this screen stops showing it held.
func (a *attached) waitReleased(h api.Held) tea.Cmd {
	if h.Done == nil {
		return nil
	}
	ctx, s, seq := a.ctx, a.sess, h.Call.Seq
	return func() tea.Msg {
		select {
		case <-ctx.Done():
			return nil
		case <-h.Done:
			return releasedMsg{s, seq}
		}
	}
}

func (a *attached) tick(every time.Duration) tea.Cmd {
	s := a.sess
	return tea.Tick(every, func(at time.Time) tea.Msg { return tickMsg{s, at} })
}

func (a *attached) snapshotCmd(at time.Time) tea.Cmd {
	ctx, s, sub, ch := a.ctx, a.sess, a.sub, a.batches
	return func() tea.Msg {
		taken := time.Now()
		procs, err := s.Processes(ctx)
		st := s.Stats()
		st.Dropped = sub.Dropped() // this screen's losses, not other viewers'
		return snapMsg{sess: s, ch: ch, at: at, taken: taken, stats: st, procs: leaders(procs), err: err}
	}
}

// run wraps a session command: I/O in the Cmd, apply in Update.
func (a *attached) run(note string, op func(context.Context, api.Session) error, apply func(*attached)) tea.Cmd {
	ctx, s := a.ctx, a.sess
	return func() tea.Msg {
		return doneMsg{sess: s, note: note, err: op(ctx, s), apply: apply}
	}
}

func (a *attached) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case batchMsg:
		if msg.sess != a.sess || msg.ch != a.batches {
			return nil
		}
		if msg.end {
			if errors.Is(msg.err, api.ErrLost) {
				return a.lose(m, msg.err)
			}
			return m.detach("the session ended: "+views.Plain(a.info.Domain)+" went away or detached", true)
		}
		for _, b := range msg.batches {
			b = a.shift(b)
			a.syscalls.Add(b)
			a.tri.add(b)
		}
		a.syncPosition()
		return a.waitBatch()
	case movedMsg:
		return a.moved(m, msg)
	case recStartedMsg:
		return a.recStarted(m, msg)
	case recordedMsg:
		return a.recorded(m, msg)
	case heldMsg:
		if msg.sess != a.sess {
			return nil
		}
		h := msg.held
		h.Call.Seq += a.seqBase
		a.insp.SetHeld(&h)
		a.setFocus(2)
		note := fmt.Sprintf("break: %s held in %s[%d]",
			escape.String(h.Call.Name), escape.String(h.Call.Process.Comm), h.Call.Process.PID)
		if h.By != "" {
			note += " by " + h.By
		}
		if keys := views.Hints(", ", views.Hint(m.c.Keys.Edit, "edits"), views.Hint(m.c.Keys.Continue, "continues")); keys != "" {
			note += "; " + keys
		}
		m.setNote(note, false)
		return tea.Batch(a.waitHeld(), a.waitReleased(h))
	case releasedMsg:
		if h := a.insp.Held(); msg.sess == a.sess && h != nil && h.Call.Seq == msg.seq {
			a.insp.SetHeld(nil)
			m.setNote("the held call ran on", false)
		}
		return nil
	case runEndMsg:
		if msg.sess != a.sess {
			return nil
		}
		if errors.Is(msg.err, api.ErrLost) {
			return a.lose(m, msg.err)
		}
		m.setNote("the session failed: "+views.Plain(msg.err.Error()), true)
		return nil
	case tickMsg:
		if msg.sess != a.sess {
			return nil
		}
		if a.tri.on {
			a.tri.refresh()
		}
		return a.snapshotCmd(msg.at)
	case snapMsg:
		if msg.sess != a.sess {
			return nil
		}
		if a.pb == nil || msg.ch == a.batches { // else the playback moved since: it is of before
			note := a.stats.BreakpointNote
			a.snap(msg)
			if n := a.stats.BreakpointNote; n != note && n != "" { // software breakpoints where hardware were asked for
				m.setNote(n, false)
			}
		}
		if msg.at.IsZero() { // one taken at attach or after a move starts no tick
			return nil
		}
		return a.tick(m.opts.Refresh)
	case doneMsg:
		if msg.sess != a.sess {
			return nil
		}
		if msg.err != nil {
			m.setNote(msg.err.Error(), true)
			return nil
		}
		if msg.apply != nil {
			msg.apply(a)
		}
		m.setNote(msg.note, false)
	case views.ProcessFilterMsg:
		a.pid = msg.PID
		a.refilter()
	case views.JumpMsg:
		a.jump(m, msg.Seq)
	}
	return nil
}

// leaders keeps the processes of a task list: its thread group leaders.
func leaders(tasks []api.Process) []api.Process {
	procs := tasks[:0:0]
	for _, t := range tasks {
		if t.PID == t.TID {
			procs = append(procs, t)
		}
	}
	return procs
}

func (a *attached) snap(msg snapMsg) {
	if !msg.at.IsZero() && !a.last.IsZero() {
		if dt := msg.at.Sub(a.last).Seconds(); dt > 0 && msg.stats.Events >= a.stats.Events {
			a.rate = float64(msg.stats.Events-a.stats.Events) / dt
		}
	}
	if !msg.at.IsZero() {
		a.last = msg.at
	}
	a.stats = msg.stats
	if msg.err == nil {
		a.snapshot, a.snapAt = msg.procs, msg.taken
		a.store.Forget(msg.procs)
		a.tri.listed(msg.procs, msg.taken)
	}
	a.procs.Set(a.snapshot)
	a.syncPosition()
}

func (a *attached) key(m *Model, k tea.KeyMsg) tea.Cmd {
	keys := m.c.Keys
	m.note = ""
	if a.man.Opened() { // it takes every key: its close keys quit or clear elsewhere
		_, cmd := a.man.Update(k)
		return cmd
	}
	switch {
	case key.Matches(k, keys.Quit):
		return m.detach("detached from "+views.Plain(a.info.Domain), false)
	case a.lost != "" && key.Matches(k, keys.Reattach):
		return a.reattach(m)
	case a.lost != "" && m.changes(k):
		note := "not attached: the connection dropped"
		if r := views.KeyName(keys.Reattach); r != "" {
			note += " (" + r + " re-attaches)"
		}
		m.setNote(note, true)
		return nil
	case key.Matches(k, keys.NextPane):
		a.setFocus((a.focus + 1) % len(a.panes))
	case key.Matches(k, keys.PrevPane):
		a.setFocus((a.focus + len(a.panes) - 1) % len(a.panes))
	case key.Matches(k, keys.Filter):
		m.prompt.Open("/", a.query, filterPurpose{})
	case key.Matches(k, keys.Clear):
		a.query, a.filter, a.pid = "", calls.Filter{}, 0
		a.procs.Unchoose()
		a.refilter()
		m.setNote("filter cleared", false)
	case key.Matches(k, keys.Follow):
		a.syscalls.SetFollow(!a.syscalls.Following())
	case key.Matches(k, keys.Manual):
		a.openManual(m)
	case key.Matches(k, keys.Break):
		return a.toggleBreak(m, false, false)
	case key.Matches(k, keys.BreakPID):
		return a.toggleBreak(m, true, false)
	case key.Matches(k, keys.Edit):
		return a.startEdit(m)
	case key.Matches(k, keys.BreakExit): // after Edit: a keys.json binding both edits
		return a.toggleBreak(m, false, true)
	case key.Matches(k, keys.Inject):
		return a.toggleInject(m, false)
	case key.Matches(k, keys.InjectPID):
		return a.toggleInject(m, true)
	case key.Matches(k, keys.Continue):
		if a.insp.Held() == nil {
			m.setNote("no call is held", true)
			return nil
		}
		return a.run("continued", func(ctx context.Context, s api.Session) error { return s.Continue(ctx) },
			func(a *attached) { a.insp.SetHeld(nil) })
	case key.Matches(k, keys.Record):
		return a.toggleRecord(m)
	case key.Matches(k, keys.Triage):
		a.switchTop()
	case a.pb != nil && a.isPlaybackKey(k):
		return a.playbackKey(m, k)
	case key.Matches(k, keys.Pause):
		if a.stats.Paused {
			return a.run("VM resumed", func(ctx context.Context, s api.Session) error { return s.Resume(ctx) },
				func(a *attached) { a.stats.Paused = false })
		}
		return a.run("VM paused", func(ctx context.Context, s api.Session) error { return s.Pause(ctx) },
			func(a *attached) { a.stats.Paused = true })
	default:
		_, cmd := a.panes[a.focus].Update(k)
		return cmd
	}
	return nil
}

// toggleBreak arms a break on the selected call's name (in its process
// only, with perProcess; holding its exit, with atExit), or clears it when
// it is armed.
func (a *attached) toggleBreak(m *Model, perProcess, atExit bool) tea.Cmd {
	r, ok := a.syscalls.Selected()
	if !ok {
		m.setNote("no call selected to break on", true)
		return nil
	}
	b := api.Breakpoint{Name: r.Call.Name, Exit: atExit}
	if perProcess {
		b.PID = r.Call.Process.PID
	}
	label := escape.String(b.Name)
	if b.PID != 0 {
		label += fmt.Sprintf(" in pid %d", b.PID)
	}
	if b.Exit {
		label += " at exit"
	}
	for i, have := range a.breaks {
		if have == b {
			return a.run("break cleared: "+label, func(ctx context.Context, s api.Session) error { return s.ClearBreak(ctx, b) },
				func(a *attached) { a.breaks = append(a.breaks[:i:i], a.breaks[i+1:]...) })
		}
	}
	if b.PID != 0 && a.exited(r) {
		m.setNote(fmt.Sprintf("pid %d (%s) has exited: a break on it would never hit",
			b.PID, escape.String(r.Call.Process.Comm)), true)
		return nil
	}
	return a.run("break armed: "+label, func(ctx context.Context, s api.Session) error { return s.Break(ctx, b) },
		func(a *attached) { a.breaks = append(a.breaks, b) })
}

// exited says the process of r's call is gone: the latest snapshot, asked
// for after the call's last event, does not list it. A call newer than the
// snapshot proves nothing: its process may have started since.
func (a *attached) exited(r *calls.Row) bool {
	last := r.Call.Time
	if r.ExitTime.After(last) {
		last = r.ExitTime
	}
	if a.snapAt.IsZero() || !last.Before(a.snapAt) {
		return false
	}
	return !slices.ContainsFunc(a.snapshot, func(p api.Process) bool { return p.PID == r.Call.Process.PID })
}

func (a *attached) startEdit(m *Model) tea.Cmd {
	t, ok := a.insp.Target()
	if !ok {
		note := "nothing to edit: no call is held"
		if k := views.KeyName(m.c.Keys.Break); k != "" {
			note += " (arm a break with " + k + ")"
		}
		m.setNote(note, true)
		return nil
	}
	a.setFocus(2)
	m.prompt.Open("edit "+t.Label+" ("+t.Hint()+"): ", t.Current, editPurpose{t})
	return nil
}

// edit reads the edit prompt's input for t. Bytes of a length other than
// a buffer's length argument holds ask first whether that changes too.
func (a *attached) edit(m *Model, t views.EditTarget, input string) tea.Cmd {
	e, err := views.ParseEdit(t, input)
	if err != nil {
		m.setNote(err.Error(), true)
		return nil
	}
	if h := a.insp.Held(); h != nil && views.NeedsLen(t, e, h) {
		m.prompt.Open(views.LenQuestion(t, e, h), "", lenPurpose{e})
		return nil
	}
	return a.applyEdit(e)
}

// setLen applies e as the answer to the length question says.
func (a *attached) setLen(m *Model, e api.Edit, answer string) tea.Cmd {
	yes, err := views.ParseAnswer(answer)
	if err != nil {
		m.setNote(err.Error()+": nothing edited", true)
		return nil
	}
	e.Len = yes
	return a.applyEdit(e)
}

// applyEdit has the session make e; a refusal shows with the reason.
func (a *attached) applyEdit(e api.Edit) tea.Cmd {
	ctx, s, base := a.ctx, a.sess, a.seqBase
	if h := a.insp.Held(); h != nil {
		e.Seq = h.Call.Seq - base // the call on screen, not whichever is held when the edit lands
	}
	return func() tea.Msg {
		h, err := s.Edit(ctx, e)
		if err != nil {
			err = fmt.Errorf("edit refused: %w", err)
		}
		h.Call.Seq += base
		return doneMsg{sess: s, note: "edited", err: err, apply: func(a *attached) { a.insp.SetHeld(&h) }}
	}
}

func (a *attached) setQuery(m *Model, q string) tea.Cmd {
	f, err := calls.Parse(q)
	if err != nil {
		m.setNote(err.Error(), true)
		return nil
	}
	a.query, a.filter = q, f
	a.refilter()
	return nil
}

// refilter applies the filter bar's filter narrowed to the chosen process.
func (a *attached) refilter() {
	f := a.filter
	if a.pid != 0 {
		f = f.WithPID(a.pid)
	}
	a.syscalls.Refilter(f)
}

func (a *attached) setFocus(i int) {
	a.focus = i
	for j, p := range a.panes {
		p.SetFocused(j == i)
	}
}

func (a *attached) focused() help.KeyMap {
	if a.man.Opened() {
		return a.man
	}
	return a.withOwnKeys(a.panes[a.focus])
}

// syncInspector shows the selected call unless one is held.
func (a *attached) syncInspector() {
	r, _ := a.syscalls.Selected()
	a.insp.Show(r)
}

// layout: the syscall pane on top, the process tree and inspector below.
func (a *attached) layout(w, h int) {
	top := max(h*3/5, 3)
	a.bottomH = max(h-top, 1)
	left := w * 2 / 5
	a.syscalls.SetSize(w, top)
	a.tri.pane.SetSize(w, top)
	a.procs.SetSize(left, a.bottomH)
	a.insp.SetSize(max(w-left-1, 1), a.bottomH)
	a.man.SetSize(w, h)
}

func (a *attached) view() string {
	sep := a.c.Styles.Muted.Render(vbar(a.bottomH))
	bottom := lipgloss.JoinHorizontal(lipgloss.Top, a.procs.View(), sep, a.insp.View())
	screen := lipgloss.JoinVertical(lipgloss.Left, a.topPane().View(), bottom)
	if a.man.Opened() {
		return a.man.Over(screen)
	}
	return screen
}

func vbar(h int) string {
	b := make([]byte, 0, h*4)
	for i := 0; i < h; i++ {
		if i > 0 {
			b = append(b, '\n')
		}
		b = append(b, "│"...)
	}
	return string(b)
}

func (a *attached) status() views.Status {
	st := views.Status{Info: a.info, Stats: a.stats, Rate: a.rate, Held: a.insp.Held() != nil, Breaks: a.breaks, Recording: a.recPath}
	st.Findings, st.Severe = a.tri.findings, a.tri.severe
	if h := a.insp.Held(); h != nil {
		st.HeldBy = h.By
	}
	if a.pb != nil {
		st.Playback = &a.pos
	}
	return st
}

// cutLine fits a message to the screen's width.
func cutLine(s string, w int) string { return ansi.Truncate(s, w, "…") }

// shift moves the seqs of a re-attached session's batch past those shown,
// on a copy (other readers share the batch), and keeps the last.
func (a *attached) shift(b []api.Syscall) []api.Syscall {
	if a.seqBase != 0 {
		b = slices.Clone(b)
		for i := range b {
			b[i].Seq += a.seqBase
		}
	}
	if n := len(b); n > 0 {
		a.lastSeq = max(a.lastSeq, b[n-1].Seq)
	}
	return b
}

// lose keeps the screen of a session whose connection dropped: what it
// showed stays; the far nitro detached as it went, so no break is armed
// and nothing is held, and the re-attach key starts a new session.
func (a *attached) lose(m *Model, err error) tea.Cmd {
	if a.lost != "" {
		return nil
	}
	a.lost = views.Plain(err.Error())
	a.insp.SetHeld(nil)
	a.breaks = nil
	m.note = "" // the note line shows lost until the next note
	return m.closeSession(a.sess)
}

// reattach attaches to the domain again, off the event loop.
func (a *attached) reattach(m *Model) tea.Cmd {
	if a.reattaching {
		return nil
	}
	a.reattaching = true
	m.setNote("re-attaching to "+views.Plain(a.name)+"...", false)
	ctx, hv, name, old := a.ctx, m.opts.Hypervisor, a.name, a.sess
	return func() tea.Msg {
		s, err := hv.Attach(ctx, name, api.AttachOptions{})
		return reattachedMsg{old: old, sess: s, err: err}
	}
}

// reattached resumes the screen on the new session: the calls shown stay,
// the new ones follow them.
func (a *attached) reattached(m *Model, msg reattachedMsg) tea.Cmd {
	a.reattaching = false
	if msg.err != nil {
		m.setNote("re-attaching: "+msg.err.Error(), true)
		return nil
	}
	s := msg.sess
	a.sess, a.info, a.lost, a.seqBase = s, s.Info(), "", a.lastSeq
	a.sub = s.Subscribe(a.store.Limit(), api.Lossy)
	a.batches = a.sub.C()
	a.stopWait()
	a.waitCtx, a.stopWait = context.WithCancel(a.ctx)
	a.ran = &runResult{done: make(chan struct{})}
	a.stats, a.rate, a.last = api.Stats{}, 0, time.Time{}
	a.rec, a.recPath, a.recBusy = nil, "", false // the recorder read the old session, which ended its recording
	m.setNote("re-attached to "+views.Plain(a.name)+": its calls go on below those shown", false)
	return a.start(m.opts.Refresh)
}
