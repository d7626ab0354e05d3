package serve

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"nitro/api"
	"nitro/internal/syncbuf"
	"nitro/ui/uitest"
)

func newHub(t *testing.T) (*hub, *uitest.Session, *syncbuf.Buffer) {
	t.Helper()
	sess := uitest.NewSession()
	hv := uitest.NewHypervisor()
	hv.Add(api.Domain{Name: "lab", State: "running"}, sess)
	audit := &syncbuf.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return &hub{hv: hv, audit: &auditLog{w: audit, now: time.Now}, ctx: ctx, slots: make(map[string]*slot)}, sess, audit
}

func (h *hub) mustOpen(t *testing.T, p Person) *viewer {
	t.Helper()
	s, err := h.open(context.Background(), "lab", p)
	if err != nil {
		t.Fatal(err)
	}
	return s.(*viewer)
}

var (
	ann     = Person{Name: "ann", Fingerprint: "SHA256:ann", Role: Viewer}
	teacher = Person{Name: "teacher", Fingerprint: "SHA256:teacher", Role: Controller}
	helper  = Person{Name: "helper", Fingerprint: "SHA256:helper", Role: Controller}
)

func closed(s *uitest.Session) bool {
	s.Lock()
	defer s.Unlock()
	return s.Closed
}

func TestOneAttachDetachedByTheLastViewer(t *testing.T) {
	h, sess, _ := newHub(t)
	a := h.mustOpen(t, ann)
	b := h.mustOpen(t, teacher)
	if a.s != b.s {
		t.Fatal("two viewers of one domain got two sessions")
	}
	a.Close()
	if closed(sess) {
		t.Fatal("the session was detached with a viewer left")
	}
	b.Close()
	if !closed(sess) {
		t.Fatal("the last viewer left and the session is still attached")
	}
}

func TestServerStopDetaches(t *testing.T) {
	h, sess, _ := newHub(t)
	h.mustOpen(t, ann)
	h.closeAll()
	if !closed(sess) {
		t.Fatal("the server stopped and the session is still attached")
	}
}

func TestStalledViewerDropsAlone(t *testing.T) {
	h, sess, _ := newHub(t)
	stalled := h.mustOpen(t, ann).Subscribe(0, api.Lossy)
	healthy := h.mustOpen(t, ann).Subscribe(0, api.Lossy)
	const batches = 3 * backlog
	for i := range batches {
		sess.Send(uitest.Stream(uint64(i*10+1), 10))
		// The healthy screen takes each batch as it comes.
		if b := <-healthy.C(); len(b) != 10 || b[0].Seq != uint64(i*10+1) {
			t.Fatalf("the healthy viewer got %d calls from seq %d, want 10 from %d", len(b), b[0].Seq, i*10+1)
		}
	}
	if d := healthy.Dropped(); d != 0 {
		t.Errorf("the healthy viewer dropped %d calls", d)
	}
	// The stalled one holds backlog batches and dropped the rest.
	if d := stalled.Dropped(); d != (batches-backlog)*10 {
		t.Errorf("the stalled viewer dropped %d calls, want %d", d, (batches-backlog)*10)
	}
}

func TestHoldIsItsControllers(t *testing.T) {
	h, sess, audit := newHub(t)
	ctx := context.Background()
	v := h.mustOpen(t, ann)
	tc := h.mustOpen(t, teacher)
	hp := h.mustOpen(t, helper)
	if err := v.Break(ctx, api.Breakpoint{Name: "close"}); !errors.Is(err, api.ErrReadOnly) {
		t.Errorf("a viewer's break: %v, want %v", err, api.ErrReadOnly)
	}
	if err := tc.Break(ctx, api.Breakpoint{Name: "close"}); err != nil {
		t.Fatal(err)
	}
	sess.Hold(api.Held{Call: uitest.Script()[5].Enter(100, uitest.Epoch)})
	var done <-chan struct{}
	for _, w := range []*viewer{v, tc, hp} {
		held := <-w.Held()
		if held.By != "teacher" {
			t.Errorf("%s sees the call held by %q, want teacher", w.who.Name, held.By)
		}
		done = held.Done
	}
	if err := hp.Continue(ctx); err == nil || !strings.Contains(err.Error(), "held by teacher") {
		t.Errorf("another controller's continue: %v, want a refusal naming teacher", err)
	}
	if _, err := hp.Edit(ctx, api.Edit{Arg: 0, Value: 4}); err == nil {
		t.Error("another controller edited the teacher's held call")
	}
	// The teacher leaves: the break goes, the call runs on, the viewers see it.
	tc.Close()
	select {
	case <-done:
	default:
		t.Error("the held call still shows held after its controller left")
	}
	sess.Lock()
	breaks, continues := len(sess.Breaks), sess.Continues
	sess.Unlock()
	if breaks != 0 || continues != 1 {
		t.Errorf("after the controller left: %d breaks, %d continues; want 0 and 1", breaks, continues)
	}
	log := audit.String()
	for _, want := range []string{
		`name="ann" domain="lab" action="break close" result=error error="read-only session"`,
		`name="teacher" domain="lab" action="break close" result=ok`,
		`name="helper" domain="lab" action="continue" result=error error="the call is held by teacher: only they may edit or continue it"`,
		`name="teacher" domain="lab" action="continue (controller left)" result=ok`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the audit log lacks %s:\n%s", want, log)
		}
	}
}

func TestEditShownToOthers(t *testing.T) {
	h, sess, audit := newHub(t)
	ctx := context.Background()
	v := h.mustOpen(t, ann)
	tc := h.mustOpen(t, teacher)
	if err := tc.Break(ctx, api.Breakpoint{Name: "openat"}); err != nil {
		t.Fatal(err)
	}
	sess.Hold(api.Held{Call: uitest.Script()[0].Enter(100, uitest.Epoch)})
	<-v.Held()
	<-tc.Held()
	edited, err := tc.Edit(ctx, api.Edit{Arg: 1, Data: []byte("/etc/hostname\x1b"), String: true})
	if err != nil {
		t.Fatal(err)
	}
	if edited.By != "teacher" || edited.Done == nil {
		t.Errorf("the edited call lost whose it is: by %q, done %v", edited.By, edited.Done)
	}
	seen := <-v.Held()
	if seen.Call.Args[1].Text != edited.Call.Args[1].Text {
		t.Errorf("the viewer sees argument 1 as %s, the editor %s", seen.Call.Args[1].Text, edited.Call.Args[1].Text)
	}
	if log := audit.String(); !strings.Contains(log, `action="edit arg 1 = \"/etc/hostname\\x1b\""`) {
		t.Errorf("the audit log lacks the edit, escaped:\n%s", log)
	}
}
