package rsp

import (
	"errors"
	"fmt"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrChecksum means a packet from the stub failed its checksum.
	ErrChecksum = errors.New("rsp: bad packet checksum")
	// ErrTimeout means the stub did not answer in time.
	ErrTimeout = errors.New("rsp: timed out waiting for the stub")
	// ErrClosed means the connection is closed or the stub hung up.
	ErrClosed = errors.New("rsp: connection closed")
	// ErrTooLarge means a packet from the stub exceeded the size limit.
	ErrTooLarge = errors.New("rsp: packet too large")
	// ErrMalformed means a reply from the stub could not be parsed.
	ErrMalformed = errors.New("rsp: malformed reply")
	// ErrUnsupported means the stub answered a request with an empty
	// packet: it does not know the request.
	ErrUnsupported = errors.New("rsp: request not supported by the stub")
	// ErrRunning means a request needs a stopped target but it is running.
	ErrRunning = errors.New("rsp: target is running")
	// ErrNotRunning means Wait was called while the target is stopped.
	ErrNotRunning = errors.New("rsp: target is not running")
	// ErrDetached means the client detached from the target: QEMU would
	// stop the VM on any further byte, so nothing more is sent.
	ErrDetached = errors.New("rsp: detached from the target")
	// ErrStub matches every StubError.
	ErrStub = errors.New("rsp: stub error reply")
	// ErrWrongPeer is a socket served by another process than the one
	// expected (Options.Peer).
	ErrWrongPeer = errors.New("rsp: the socket is not the expected process's")
)

// StubError is an `E nn` reply from the stub. errors.Is(err, ErrStub)
// matches any code; errors.Is(err, StubError{Code: 14}) matches one.
type StubError struct {
	Code uint8
}

func (e StubError) Error() string { return fmt.Sprintf("rsp: stub replied E%02x", e.Code) }

// Is makes every StubError match ErrStub.
func (e StubError) Is(target error) bool { return target == ErrStub }
