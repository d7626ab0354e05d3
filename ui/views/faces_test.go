package views

import (
	"bytes"
	"strings"
	"testing"

	"nitro/api"
	"nitro/internal/traceformat"
	"nitro/ui/calls"
	"nitro/ui/uitest"
)

// TestFacesRenderCallsAlike feeds the same events to the syscall pane and to
// `nitro trace --format text` and compares each call's text: both take it
// from the event as its back end rendered it.
func TestFacesRenderCallsAlike(t *testing.T) {
	events := uitest.Stream(1, 2*len(uitest.Script()))
	exitGroup := api.Syscall{Seq: 100, Direction: api.Enter, Nr: 231, Name: "exit_group", Process: uitest.Proc(42),
		Args: []api.Arg{{Raw: 0, Text: "0"}}, RetText: "?"}
	injected := uitest.Script()[2].Exit(101, uitest.Epoch)
	injected.Ret, injected.Errno, injected.Injected = -13, "EACCES", true
	injected.RetText = "-1 EACCES (Permission denied) (INJECTED)"
	restarted := uitest.Script()[1].Exit(102, uitest.Epoch)
	restarted.Ret, restarted.Errno = -512, "ERESTARTSYS"
	restarted.RetText = "? ERESTARTSYS (To be restarted if SA_RESTART is set)"
	compatIn, compat := uitest.Script()[0].Enter(106, uitest.Epoch), uitest.Script()[0].Exit(107, uitest.Epoch)
	compatIn.ABI, compatIn.Nr, compatIn.Name = api.I386, 5, "open"
	compat.ABI, compat.Nr, compat.Name = api.I386, 5, "open"
	events = append(events, exitGroup, uitest.Script()[2].Enter(104, uitest.Epoch), injected,
		uitest.Script()[1].Enter(105, uitest.Epoch), restarted, compatIn, compat)

	var out bytes.Buffer
	tw := traceformat.NewText(&out)
	store := calls.New(0)
	for i := range events {
		if err := tw.Write(&events[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	store.Add(events)

	var lines []string
	for l := range strings.Lines(out.String()) {
		_, call, _ := strings.Cut(strings.TrimSuffix(l, "\n"), "] ") // drop "[pid comm] "
		lines = append(lines, call)
	}
	if store.Len() != len(lines) {
		t.Fatalf("the pane has %d rows, the text %d lines:\n%s", store.Len(), len(lines), out.String())
	}
	for i := range lines {
		r := store.At(i)
		row := strings.TrimRight(rowText(r, 400), " ")
		if !strings.HasSuffix(row, " "+lines[i]) {
			t.Errorf("call %d:\npane %q\ntext %q", i, row, lines[i])
		}
	}
	for _, want := range []string{"exit_group(0) = ?", "(Permission denied) (INJECTED)", "= ? ERESTARTSYS", "i386:open("} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, out.String())
		}
	}
}
