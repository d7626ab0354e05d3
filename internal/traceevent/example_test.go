package traceevent_test

import (
	"os"
	"time"

	"nitro/api"
	"nitro/internal/traceevent"
)

// A close, then an exit_group that never returns: one slice from entry to
// exit, one that did not end.
func Example() {
	start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return start.Add(d) }
	cat := api.Process{PID: 77, TID: 77, PPID: 1, Comm: "cat"}
	fd := []api.Arg{{Raw: 3, Text: "3"}}
	w, err := traceevent.New(os.Stdout, start, map[string]string{"domain": "lab"})
	if err != nil {
		panic(err)
	}
	for _, sc := range []api.Syscall{
		{Seq: 1, Time: at(1500), Direction: api.Enter, Nr: 3, Name: "close", Process: cat, Args: fd},
		{Seq: 2, Time: at(42 * time.Microsecond), Direction: api.Exit, Nr: 3, Name: "close", Process: cat, Args: fd, RetText: "0", Matched: true},
		{Seq: 3, Time: at(50 * time.Microsecond), Direction: api.Enter, Nr: 231, Name: "exit_group", Process: cat,
			Args: []api.Arg{{Text: "0"}}, RetText: "?"},
	} {
		if err := w.Write(&sc); err != nil {
			panic(err)
		}
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	// Output:
	// {"otherData":{"domain":"lab","start":"2026-11-25T12:00:00Z"}
	// ,"traceEvents":[
	// {"name":"thread_name","ph":"M","ts":1.5,"pid":77,"tid":77,"args":{"name":"cat"}}
	// ,{"name":"process_name","ph":"M","ts":1.5,"pid":77,"tid":77,"args":{"name":"cat"}}
	// ,{"name":"close","ph":"X","ts":1.5,"dur":40.5,"pid":77,"tid":77,"args":{"call":"close(3) = 0","args":["3"],"ret":"0","seq":1}}
	// ,{"name":"exit_group","ph":"B","ts":50,"pid":77,"tid":77,"args":{"call":"exit_group(0) = ?","args":["0"],"ret":"?","seq":3}}
	// ]}
}
