package views

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"nitro/api"
	"nitro/internal/escape"
)

// ErrNotPointer is bytes for a field that holds a number only.
var ErrNotPointer = errors.New("takes a number (42, -1, 0x1f), not bytes")

// EditTarget is the held call's field an edit prompt changes: an argument,
// the return value at an exit, or a register.
type EditTarget struct {
	Edit    api.Edit   // the field, with its current value
	Label   string     // "arg1", "ret", "rax"
	Current string     // its value in the prompt's syntax
	Use     api.ArgUse // what the call does with an argument's memory; ArgValue for the rest
}

// Hint is the prompt's reminder of what the field takes.
func (t EditTarget) Hint() string {
	switch {
	case t.Edit.Ret:
		return "a number, -2 for -ENOENT"
	case t.Use.Pointer():
		return `"text", hex x"68 69" or a number`
	}
	return "a number"
}

// bytesInput reads the edit prompt's forms of bytes: a Go-quoted string
// ("text\n") or hex bytes (x"48 69", spaces optional). ok is false for
// input of neither form.
func bytesInput(input string) (b []byte, ok bool, err error) {
	switch {
	case strings.HasPrefix(input, `"`):
		s, err := strconv.Unquote(input)
		if err != nil {
			return nil, true, fmt.Errorf("%q: %w", input, ErrBadValue)
		}
		return append([]byte{}, s...), true, nil // never nil: nil Data is a number
	case strings.HasPrefix(input, `x"`):
		digits, closed := strings.CutSuffix(input[2:], `"`)
		b, err := hex.DecodeString(strings.ReplaceAll(digits, " ", ""))
		if !closed || err != nil {
			return nil, true, fmt.Errorf("%q: hex bytes are two digits each, as in x\"48 69\": %w", input, ErrBadValue)
		}
		return append([]byte{}, b...), true, nil
	}
	return nil, false, nil
}

// NeedsLen says whether e writes a buffer of a length other than the one
// its length argument holds in h: the user is asked whether that changes.
func NeedsLen(t EditTarget, e api.Edit, h *api.Held) bool {
	l := t.Use.Len
	return t.Use.Kind == api.ArgBuffer && e.Data != nil && l >= 0 && l < len(h.Call.Args) &&
		h.Call.Args[l].Raw != uint64(len(e.Data))
}

// maxShown bounds the bytes a confirmation quotes.
const maxShown = 24

// LenQuestion asks whether a buffer edit sets the length too, showing both:
// write arg1 "new bytes" (9 bytes) and arg2 (its length) 14 -> 9? [y/n]
func LenQuestion(t EditTarget, e api.Edit, h *api.Held) string {
	shown, more := e.Data, ""
	if len(shown) > maxShown {
		shown, more = shown[:maxShown], "..."
	}
	l := t.Use.Len
	return fmt.Sprintf("%s %s \"%s\"%s (%d bytes) and arg%d (its length) %d -> %d? [y/n] ",
		Plain(h.Call.Name), t.Label, escape.Bytes(shown), more, len(e.Data), l, h.Call.Args[l].Raw, len(e.Data))
}

// ParseAnswer reads a y/n answer.
func ParseAnswer(s string) (yes bool, err error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "y", "yes":
		return true, nil
	case "n", "no":
		return false, nil
	}
	return false, fmt.Errorf("answer y or n, not %q", s)
}
