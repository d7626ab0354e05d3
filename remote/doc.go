// Package remote reaches the guests of another host through a nitro
// started there: `nitro agent` serves that host's api.Hypervisor on its
// stdin and stdout (Serve), and Client is an api.Hypervisor, with its
// sessions and guests, over any such stream. SSH runs the far nitro for a
// libvirt URI such as qemu+ssh://root@host:2222/system?keyfile=KEY, so
// nitro rides SSH's keys, host checks and compression instead of a daemon
// of its own; libvirt's remote driver keeps serving the domain list and run
// control. Many joins several hosts (nitro -c A -c B) into one
// api.Hypervisor whose domains are named HOST/NAME.
//
// # Protocol (version 2)
//
// Every message is one JSON object on one line. The client speaks first,
// with {"nitro_agent":2}; the agent answers with its own version the same
// way, and both refuse a mismatch with an error naming both versions.
//
// Then the client sends requests, {"id":N,"op":"attach","name":"lab",...},
// and the agent answers each, in any order, with {"id":N} (and "result") or
// {"id":N,"error":{"msg":"...","kind":"not_held"}}; kind names the api
// sentinel error (api.ErrNotHeld...) the reply wraps. The ops are domains,
// control, detach, attach, run, stop, close, processes, break, clear_break,
// inject, clear_injection, edit, continue, pause, resume, inspect,
// guest_processes, symbols, profile and guest_close: the methods of
// api.Hypervisor, api.Session and api.Guest. An agent holds at most one
// session and one guest; a request for one it does not hold is an error.
// An attach or inspect may carry "kernel":{"symbols":...,"profile":...},
// the contents (base64, MaxFile at most) of the files given to the client
// as --symbols and --profile: the agent writes them to files of its own,
// reads the guest's kernel from those, and removes them (KernelFiler).
//
// Without an id, the agent's lines are the session's: {"calls":[...]} a
// batch of calls, each with the fields of `nitro trace`'s JSON lines (seq,
// time, vcpu, direction, abi, nr, name, pid, tid, ppid, comm, args as
// {"raw","text"}; ret, errno, matched, ret_text and injected when not zero)
// and those the terminal interface needs besides (an argument's "out", the
// process's uid, task, image, not_thread, and ret_text on an entry that
// never returns). Texts are as the far back end rendered them; comm is the
// guest's raw name (a JSON string: bytes that are not UTF-8 become U+FFFD),
// escaped where it is shown. Calls are written and read with go-json
// (calls.go), plain JSON that encoding/json reads the same;
// {"held":{...}} a call a break holds, {"done":SEQ} when it went on;
// {"stats":{...}} the counters, a few times a second; {"end":"..."} when
// the session's Run ended ("" when it ended cleanly). Only the calls that
// the attach's pid and comm filters keep cross the link.
//
// A line longer than MaxLine, a line cut short by the end of the stream, or
// one that is not a message is an error that ends the connection.
package remote
