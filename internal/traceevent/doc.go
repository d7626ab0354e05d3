// Package traceevent writes system calls in the Trace Event Format: the
// JSON that Perfetto (ui.perfetto.dev, trace_processor) and Chrome's
// about:tracing open, one track per guest thread, one slice per call.
//
// The output is the JSON object form, streamed as the calls come:
//
//	{"otherData":{"domain":"lab","start":"2026-11-25T12:00:00Z"}
//	,"traceEvents":[
//	{"name":"thread_name","ph":"M","ts":1.5,"pid":77,"tid":77,"args":{"name":"cat"}}
//	,{"name":"process_name","ph":"M","ts":1.5,"pid":77,"tid":77,"args":{"name":"cat"}}
//	,{"name":"close","ph":"X","ts":1.5,"dur":40.5,"pid":77,"tid":77,"args":{"call":"close(3) = 0","args":["3"],"ret":"0","seq":1}}
//	,{"name":"exit_group","ph":"B","ts":50,"pid":77,"tid":77,"args":{"call":"exit_group(0) = ?","args":["0"],"ret":"?","seq":3}}
//	]}
//
// pid is the guest's thread group id and tid its thread id; process_name
// and thread_name metadata events name them (guest names escaped, as every
// face escapes them). ts and dur are microseconds since the recording's
// start (otherData.start), with nanosecond decimals: absolute Unix
// microseconds need more digits than a JSON reader's double keeps.
//
// A call is an "X" slice from its entry to its exit, named as strace -c
// names it ("openat", "i386:open"); args holds its text as every face
// shows it (api.AppendCall), each argument's text, the return text and the
// seq of its first event (nitro replay --at SEQ goes there). An entry
// pairs with the next exit of its thread when that exit says its entry
// was seen (api.Syscall.Matched), as nitro trace --summary pairs them. A
// call with a part missing is drawn over the widest span it can have had,
// so that a thread's slices never overlap:
//
//   - an entry whose thread goes on without its exit (the next event of the
//     thread is another entry, or an exit that is not its own) ends at that
//     event, its call text "<unfinished ...>";
//   - an exit whose entry was not recorded starts where the thread's last
//     slice ended, or at the recording's start, its text "<... resumed>";
//   - a call still in flight at the recording's end, exit_group included,
//     is a "B" event without its "E". Perfetto shows such a slice as "Did
//     not end" and draws it to the trace's end, where an "X" ending at the
//     recording's end would show a duration the call never had, and count
//     it in every duration statistic.
//
// There is no displayTimeUnit: Perfetto's JSON importer has read
// displayTimeUnit "ns" as the unit of ts, which would shrink the trace a
// thousand times; the default display unit is fine.
package traceevent
