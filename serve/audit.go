package serve

import (
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
)

// auditLog writes one line per control action, allowed or refused:
//
//	2026-12-02T04:30:00.123Z key=SHA256:… name="alice" domain="nitro-lab" action="break openat" result=ok
//	… action="continue" result=error error="read-only session"
//
// Names, domains and actions are quoted: a line is one line whatever a key
// comment or an edit's bytes hold.
type auditLog struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
}

func (a *auditLog) log(p Person, domain, action string, err error) {
	result := "ok"
	if err != nil {
		result = "error error=" + strconv.Quote(err.Error())
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	// A failed write must not undo the action; the operator sees the
	// writer's own errors (a full disk) elsewhere.
	fmt.Fprintf(a.w, "%s key=%s name=%q domain=%q action=%q result=%s\n",
		a.now().UTC().Format(time.RFC3339Nano), p.Fingerprint, p.Name, domain, action, result)
}
