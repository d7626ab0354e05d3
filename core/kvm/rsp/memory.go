package rsp

import "fmt"

// ReadVirt reads guest memory at virtual address va, translated by the
// selected thread's page tables.
func (c *Client) ReadVirt(p []byte, va uint64) error { return c.readMemory(p, va, false) }

// WriteVirt writes guest memory at virtual address va.
func (c *Client) WriteVirt(p []byte, va uint64) error { return c.writeMemory(p, va, false) }

// ReadPhys reads guest-physical memory (QEMU's Qqemu.PhyMemMode).
func (c *Client) ReadPhys(p []byte, pa uint64) error { return c.readMemory(p, pa, true) }

// WritePhys writes guest-physical memory (QEMU's Qqemu.PhyMemMode).
func (c *Client) WritePhys(p []byte, pa uint64) error { return c.writeMemory(p, pa, true) }

// setPhysMode switches QEMU's memory packets between virtual and physical
// addresses; the mode is remembered, so runs of one kind cost nothing
// extra. c.mu is held.
func (c *Client) setPhysMode(phys bool) error {
	if c.physMode == phys {
		return nil
	}
	req := "Qqemu.PhyMemMode:0"
	if phys {
		req = "Qqemu.PhyMemMode:1"
	}
	if err := c.exchangeOK([]byte(req)); err != nil {
		return fmt.Errorf("%s: %w", req, err)
	}
	c.physMode = phys
	return nil
}

// memChunk is the most bytes one m or M packet carries: both send the data
// as hex inside one packet.
func (c *Client) memChunk() int { return (c.packetSize() - 32) / 2 }

func space(phys bool) string {
	if phys {
		return "physical"
	}
	return "virtual"
}

func (c *Client) readMemory(p []byte, addr uint64, phys bool) error {
	return c.chunked(p, addr, phys, "reading", func(chunk []byte, a uint64) error {
		reply, err := c.exchange(fmt.Appendf(nil, "m%x,%x", a, len(chunk)))
		if err == nil && len(reply) == 0 {
			err = ErrUnsupported
		}
		var data []byte
		if err == nil {
			data, err = decodeHex(reply)
		}
		if err == nil && len(data) != len(chunk) {
			err = fmt.Errorf("%w: %d bytes for %d", ErrMalformed, len(data), len(chunk))
		}
		copy(chunk, data)
		return err
	})
}

func (c *Client) writeMemory(p []byte, addr uint64, phys bool) error {
	return c.chunked(p, addr, phys, "writing", func(chunk []byte, a uint64) error {
		return c.exchangeOK(appendHex(fmt.Appendf(nil, "M%x,%x:", a, len(chunk)), chunk))
	})
}

// chunked runs one memory request per packet-sized chunk of p, with the
// target stopped and the stub in the right memory mode.
func (c *Client) chunked(p []byte, addr uint64, phys bool, verb string, do func(chunk []byte, a uint64) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.ready(); err != nil {
		return err
	}
	if err := c.setPhysMode(phys); err != nil {
		return err
	}
	for done := 0; done < len(p); {
		n := min(len(p)-done, c.memChunk())
		a := addr + uint64(done)
		if err := do(p[done:done+n], a); err != nil {
			return fmt.Errorf("%s %d bytes of %s memory at %#x: %w", verb, n, space(phys), a, err)
		}
		done += n
	}
	return nil
}
