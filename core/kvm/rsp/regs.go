package rsp

import (
	"fmt"
	"strconv"
)

// ReadRegisters returns the `g` payload of the selected thread (see
// SelectThread; QEMU selects the thread that stopped): every register of
// the Layout, in its order. Decode values with Register.Uint.
func (c *Client) ReadRegisters() ([]byte, error) {
	reply, err := c.request([]byte("g"))
	if err != nil {
		return nil, fmt.Errorf("reading registers: %w", err)
	}
	raw, err := decodeHex(reply)
	if err != nil {
		return nil, fmt.Errorf("reading registers: %w", err)
	}
	return raw, nil
}

// WriteRegisters writes a whole `g` payload back with `G`.
func (c *Client) WriteRegisters(raw []byte) error {
	if err := c.requestOK(appendHex([]byte("G"), raw)); err != nil {
		return fmt.Errorf("writing registers: %w", err)
	}
	return nil
}

// ReadRegister reads one register with `p`.
func (c *Client) ReadRegister(r Register) ([]byte, error) {
	reply, err := c.request(fmt.Appendf(nil, "p%x", r.Num))
	if err != nil {
		return nil, fmt.Errorf("reading register %s: %w", r.Name, err)
	}
	val, err := decodeHex(reply)
	if err == nil && len(val) != r.Size {
		err = fmt.Errorf("%w: %d bytes for a %d-byte register", ErrMalformed, len(val), r.Size)
	}
	if err != nil {
		return nil, fmt.Errorf("reading register %s: %w", r.Name, err)
	}
	return val, nil
}

// WriteRegister writes one register with `P`; val holds its bytes in
// target order (see Register.PutUint for numbers).
func (c *Client) WriteRegister(r Register, val []byte) error {
	if len(val) != r.Size {
		return fmt.Errorf("writing register %s: %d bytes for a %d-byte register", r.Name, len(val), r.Size)
	}
	req := appendHex(fmt.Appendf(nil, "P%x=", r.Num), val)
	if err := c.requestOK(req); err != nil {
		return fmt.Errorf("writing register %s: %w", r.Name, err)
	}
	return nil
}

// WriteRegisterUint writes a number into one register (little-endian).
func (c *Client) WriteRegisterUint(r Register, v uint64) error {
	val := make([]byte, r.Size)
	Register{Size: r.Size}.PutUint(val, v)
	return c.WriteRegister(r, val)
}

// String renders a register for error messages and debugging.
func (r Register) String() string {
	return r.Name + "#" + strconv.Itoa(r.Num)
}
