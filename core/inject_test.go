package core

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"nitro/api"
	"nitro/core/backend"
)

// injectBackend is the fake back end with fault injection: the script's
// calls by name, two errnos, and results shown as the Linux back end
// shows them.
type injectBackend struct{ *fakeBackend }

var _ backend.Injector = injectBackend{}

func (injectBackend) SyscallNumber(abi api.ABI, name string) (uint64, bool) {
	for _, s := range script {
		if s.name == name && abi == api.X8664 {
			return s.nr, true
		}
	}
	return 0, false
}

func (injectBackend) Errno(name string) (uint64, error) {
	switch name {
	case "EACCES", "13":
		return 13, nil
	case "ENOENT":
		return 2, nil
	}
	return 0, fmt.Errorf("unknown errno %q", name)
}

func (injectBackend) SetResult(call *backend.Call, v uint64) error {
	if err := call.Arguments.SetReturn(v); err != nil {
		return err
	}
	call.Ret, call.Injected = int64(v), true
	call.RetText = strconv.FormatInt(call.Ret, 10) + " (INJECTED)"
	return nil
}

func mustParse(t *testing.T, spec string) api.Injection {
	t.Helper()
	in, err := api.ParseInjection(spec)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// TestInjectSkipsTheCall: the second read of the fake guest's thread does
// not run (its kernel sees the invalid number), the program gets -EACCES
// back, and the exit shows the injection; every other call runs as before.
func TestInjectSkipsTheCall(t *testing.T) {
	s, f, g := attachFake(t)
	s.backend = injectBackend{s.backend.(*fakeBackend)}
	if err := s.Inject(context.Background(), mustParse(t, "read:error=EACCES:when=2")); err != nil {
		t.Fatal(err)
	}
	sub := s.Subscribe(1024, api.Lossless)
	done := start(s)
	got := next(t, sub, 18) // three rounds of open, read, close
	requireDetached(t, s, f, done)

	reads := 0
	for _, sc := range got[:18] {
		if sc.Name != "read" || !sc.IsExit() {
			if sc.Injected {
				t.Errorf("%s %s shows as injected", sc.Name, sc.Direction)
			}
			continue
		}
		reads++
		want := api.Syscall{Ret: 20, RetText: "20"}
		if reads == 2 {
			want = api.Syscall{Ret: -13, RetText: "-13 (INJECTED)", Injected: true}
		}
		if sc.Ret != want.Ret || sc.RetText != want.RetText || sc.Injected != want.Injected {
			t.Errorf("read %d: = %d %q injected %v; want %d %q %v", reads, sc.Ret, sc.RetText, sc.Injected, want.Ret, want.RetText, want.Injected)
		}
	}
	// What the guest did: its second read never ran, and returned -EACCES.
	reads = 0
	for i, r := range g.completed() {
		if i >= 9 {
			break
		}
		want := script[i%len(script)]
		if want.name != "read" {
			if r.nr != want.nr || r.ret != 100*want.nr+want.arg {
				t.Errorf("guest call %d: %+v, want %s to run unchanged", i, r, want.name)
			}
			continue
		}
		reads++
		switch {
		case reads == 2 && (r.nr != skipNumber || r.ret != ^uint64(12) || !r.back):
			t.Errorf("the guest's second read: %+v, want it skipped (number -1) returning -EACCES", r)
		case reads != 2 && (r.nr != 0 || r.ret != 20):
			t.Errorf("the guest's read %d: %+v, want it run returning 20", reads, r)
		}
	}
	st := s.Stats()
	if len(st.Injections) != 1 || st.Injections[0].Injected != 1 || st.Injections[0].String() != "read:error=EACCES:when=2" || st.InjectErrors != 0 {
		t.Errorf("stats %+v, want the injection armed with one call injected", st)
	}
}

// TestInjectCountDisarms: count=N injects N calls in all, then the
// injection is gone.
func TestInjectCountDisarms(t *testing.T) {
	s, f, g := attachFake(t)
	s.backend = injectBackend{s.backend.(*fakeBackend)}
	if err := s.Inject(context.Background(), mustParse(t, "read,close:error=ENOENT:count=3")); err != nil {
		t.Fatal(err)
	}
	sub := s.Subscribe(1024, api.Lossless)
	done := start(s)
	got := next(t, sub, 24)
	requireDetached(t, s, f, done)
	var injected []string
	for _, sc := range got {
		if sc.Injected {
			injected = append(injected, fmt.Sprintf("%s=%d", sc.Name, sc.Ret))
		}
	}
	if want := []string{"read=-2", "close=-2", "read=-2"}; !reflect.DeepEqual(injected, want) {
		t.Errorf("injected %v, want %v", injected, want)
	}
	skipped := 0
	for _, r := range g.completed() {
		if r.nr == skipNumber {
			skipped++
		}
	}
	if skipped != 3 {
		t.Errorf("the guest skipped %d calls, want 3", skipped)
	}
	if st := s.Stats(); len(st.Injections) != 0 {
		t.Errorf("after its count the injection is still armed: %+v", st.Injections)
	}
}

// TestInjectArming: what Inject and ClearInjection refuse, and say.
func TestInjectArming(t *testing.T) {
	s, _, _ := attachFake(t)
	ctx := context.Background()
	if err := s.Inject(ctx, mustParse(t, "read:error=EIO")); !errors.Is(err, api.ErrNotSupported) {
		t.Errorf("a back end without injection: %v, want ErrNotSupported", err)
	}
	s.backend = injectBackend{s.backend.(*fakeBackend)}
	for spec, says := range map[string]string{
		"frob:error=EACCES":  `unknown system call "frob"`,
		"read:error=EFROB":   `unknown errno "EFROB"`,
		"read,frob:retval=1": `unknown system call "frob"`,
	} {
		if err := s.Inject(ctx, mustParse(t, spec)); err == nil || !strings.Contains(err.Error(), says) || !strings.Contains(err.Error(), spec) {
			t.Errorf("Inject(%s): %v, want an error naming it and saying %s", spec, err, says)
		}
	}
	if err := s.Inject(ctx, api.Injection{Errno: "EIO"}); !errors.Is(err, api.ErrBadInjection) {
		t.Errorf("an injection of no call: %v, want ErrBadInjection", err)
	}
	if len(s.Stats().Injections) != 0 {
		t.Fatalf("refused injections were armed: %+v", s.Stats().Injections)
	}
	a, b := mustParse(t, "read:error=EACCES"), mustParse(t, "open:retval=7:when=2+")
	for _, in := range []api.Injection{a, b, a} { // arming a again replaces it
		if err := s.Inject(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	var armed []string
	for _, in := range s.Stats().Injections {
		armed = append(armed, in.String())
	}
	if want := []string{b.String(), a.String()}; !reflect.DeepEqual(armed, want) {
		t.Errorf("armed %v, want %v", armed, want)
	}
	if err := s.ClearInjection(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.ClearInjection(ctx, a); !errors.Is(err, api.ErrNotArmed) {
		t.Errorf("clearing it twice: %v, want ErrNotArmed", err)
	}
	s.inj.refuse = fmt.Errorf("refused: %w", api.ErrNotSupported)
	if err := s.Inject(ctx, a); !errors.Is(err, api.ErrNotSupported) {
		t.Errorf("a session that refuses: %v", err)
	}
}

// TestInjectWhen counts invocations as strace's when= does, per thread
// and per call; the last armed injection that matches decides.
func TestInjectWhen(t *testing.T) {
	read, open := callKey{api.X8664, 0}, callKey{api.X8664, 2}
	for _, c := range []struct {
		when string
		want []int // the injected invocations among the first 12
	}{
		{"", []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
		{":when=3", []int{3}},
		{":when=3+", []int{3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
		{":when=3+4", []int{3, 7, 11}},
		{":when=3..5", []int{3, 4, 5}},
		{":when=2..9+3", []int{2, 5, 8}},
		{":when=1..1", []int{1}},
	} {
		var in injections
		a := &armedInjection{Injection: mustParse(t, "read:error=EIO"+c.when), set: map[callKey]bool{read: true}, counts: map[countKey]whenCount{}}
		in.armed = []*armedInjection{a}
		for tid := 1; tid <= 2; tid++ { // each thread counts its own
			var got []int
			for i := 1; i <= 12; i++ {
				if _, ok := in.decide(open, 1, tid); ok {
					t.Fatalf("when%s: open injected", c.when)
				}
				if _, ok := in.decide(read, 1, tid); ok {
					got = append(got, i)
				}
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("when%s, thread %d: injected %v, want %v", c.when, tid, got, c.want)
			}
		}
	}

	// All but read, in process 7 only, after a broader one: the later
	// decides the calls it matches.
	var in injections
	all := &armedInjection{Injection: mustParse(t, "all:error=EIO"), ret: 1, set: map[callKey]bool{}, counts: map[countKey]whenCount{}}
	notRead := &armedInjection{Injection: mustParse(t, "!read:error=EIO:when=2:pid=7"), ret: 2, set: map[callKey]bool{read: true}, counts: map[countKey]whenCount{}}
	in.armed = []*armedInjection{all, notRead}
	for _, c := range []struct {
		call     callKey
		pid, tid int
		ret      uint64
		ok       bool
	}{
		{read, 7, 7, 1, true},  // notRead leaves read alone: all decides
		{open, 7, 7, 0, false}, // notRead's first open of thread 7
		{open, 7, 7, 2, true},  // its second
		{open, 7, 8, 0, false}, // thread 8 counts from its own first
		{open, 9, 9, 1, true},  // another process: all
	} {
		if ret, ok := in.decide(c.call, c.pid, c.tid); ret != c.ret || ok != c.ok {
			t.Errorf("call %d of pid %d tid %d: %d %v, want %d %v", c.call.nr, c.pid, c.tid, ret, ok, c.ret, c.ok)
		}
	}
}
