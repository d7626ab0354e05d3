package offsets

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"nitro/internal/escape"
)

// maxProfileSize bounds a profile file.
const maxProfileSize = 1 << 20

// LoadProfile reads a JSON profile (see the package documentation) for a
// kernel without BTF. Keys left out are Absent.
func LoadProfile(r io.Reader) (*Offsets, error) {
	o := empty()
	if err := o.Override(r); err != nil {
		return nil, err
	}
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	return o, nil
}

// Override replaces the values a JSON profile gives and keeps the others,
// for correcting single offsets taken from BTF. On error o is unchanged.
func (o *Offsets) Override(r io.Reader) error {
	raw, err := io.ReadAll(io.LimitReader(r, maxProfileSize+1))
	if err != nil {
		return fmt.Errorf("reading profile: %w", err)
	}
	if len(raw) > maxProfileSize {
		return fmt.Errorf("profile larger than %d bytes", maxProfileSize)
	}
	next := *o
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields() // a misspelt key must not pass silently
	if err := dec.Decode(&next); err != nil {
		return fmt.Errorf("decoding profile: %w", err)
	}
	if err := next.Validate(); err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	*o = next
	return nil
}

// WriteProfile writes o as a JSON profile. Its strings may come from guest
// memory (linux_banner): every non-ASCII rune is written \uXXXX, so the
// profile is printable ASCII and loads back the same.
func (o *Offsets) WriteProfile(w io.Writer) error {
	raw, err := json.MarshalIndent(o, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(escape.JSON(nil, raw), '\n'))
	return err
}
