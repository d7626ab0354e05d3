package remote

import (
	"fmt"

	gojson "github.com/goccy/go-json"

	"nitro/api"
)

// Calls are most of what crosses the link, and encoding/json's reflection
// costs more per call than the far guest's stop: lines go through go-json,
// which reads and writes the same JSON at a fraction of the cost.

// appendCalls writes the line {"calls":[...]} of batch's calls that keep
// keeps; false when it kept none.
func appendCalls(b []byte, batch []api.Syscall, keep func(*api.Syscall) bool) ([]byte, bool) {
	var m message
	for i := range batch {
		if keep(&batch[i]) {
			m.Calls = append(m.Calls, fromSyscall(&batch[i]))
		}
	}
	if len(m.Calls) == 0 {
		return b, false
	}
	line, err := gojson.Marshal(&m)
	if err != nil { // events hold strings, numbers and times: never
		panic(fmt.Sprintf("remote: encoding calls: %v", err))
	}
	return append(append(b, line...), '\n'), true
}

// decodeMessage reads the next line into m.
func decodeMessage(in *lines, m *message) error {
	line, err := in.next()
	if err != nil {
		return err
	}
	if err := gojson.Unmarshal(line, m); err != nil {
		return fmt.Errorf("%w: a line that is not a message: %v", ErrProtocol, err)
	}
	return nil
}
