package rsp

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Register is one register of the target description.
type Register struct {
	Name   string
	Num    int    // number for the `p` and `P` packets
	Size   int    // bytes
	Offset int    // byte offset in the `g` packet
	Type   string // as given by the target description, e.g. "int64", "code_ptr"
	Group  string
}

// Uint returns the register's value from a `g` packet payload, read as a
// little-endian number (x86 targets); for registers wider than 8 bytes,
// the low 8. It returns 0 if raw is too short to hold the register.
func (r Register) Uint(raw []byte) uint64 {
	if !r.In(raw) {
		return 0
	}
	var b [8]byte
	copy(b[:], raw[r.Offset:r.Offset+min(r.Size, 8)])
	return binary.LittleEndian.Uint64(b[:])
}

// PutUint stores v into the register's bytes of a `g` packet payload,
// truncated to the register's size. It does nothing if raw is too short.
func (r Register) PutUint(raw []byte, v uint64) {
	if !r.In(raw) {
		return
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	dst := raw[r.Offset : r.Offset+r.Size]
	clear(dst)
	copy(dst, b[:min(r.Size, 8)])
}

// In reports whether raw (a `g` payload) holds the register.
func (r Register) In(raw []byte) bool { return r.Offset >= 0 && r.Offset+r.Size <= len(raw) }

// Layout is the register set of a target, from its target description.
// Registers are ordered by number, which is also their order in the `g`
// packet.
type Layout struct {
	Arch      string
	Registers []Register
	GSize     int // bytes of a full `g` payload
}

// Lookup finds a register by name.
func (l *Layout) Lookup(name string) (Register, bool) {
	i := slices.IndexFunc(l.Registers, func(r Register) bool { return r.Name == name })
	if i < 0 {
		return Register{}, false
	}
	return l.Registers[i], true
}

// Bounds on a hostile target description.
const (
	maxDescFiles  = 32
	maxDescDepth  = 4
	maxDescBytes  = 256 << 10
	maxDescChunks = 256 // QEMU sends its x86 documents in one or two
	maxRegisters  = 1024
	maxRegBits    = 4096
	maxRegNum     = 1 << 16
	maxAnnexBytes = 128
)

// parseTargetDesc reads target.xml and the documents it includes, fetched
// by name through fetch, into a Layout.
func parseTargetDesc(fetch func(annex string) ([]byte, error)) (*Layout, error) {
	p := descParser{fetch: fetch}
	if err := p.parse("target.xml", 0); err != nil {
		return nil, err
	}
	if len(p.regs) == 0 {
		return nil, fmt.Errorf("%w: target description has no registers", ErrMalformed)
	}
	slices.SortFunc(p.regs, func(a, b Register) int { return a.Num - b.Num })
	l := &Layout{Arch: p.arch, Registers: p.regs}
	for i := range l.Registers {
		if i > 0 && l.Registers[i].Num == l.Registers[i-1].Num {
			return nil, fmt.Errorf("%w: register number %d given twice", ErrMalformed, l.Registers[i].Num)
		}
		l.Registers[i].Offset = l.GSize
		l.GSize += l.Registers[i].Size
	}
	return l, nil
}

type descParser struct {
	fetch   func(string) ([]byte, error)
	files   int
	arch    string
	regs    []Register
	nextNum int
}

func (p *descParser) parse(annex string, depth int) error {
	p.files++
	if p.files > maxDescFiles || depth > maxDescDepth {
		return fmt.Errorf("%w: target description includes too many files", ErrMalformed)
	}
	doc, err := p.fetch(annex)
	if err != nil {
		return fmt.Errorf("fetching %s: %w", annex, err)
	}
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = false
	// The DTD is never fetched: documents are read as they are.
	d.Entity = map[string]string{}
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: parsing %s: %v", ErrMalformed, annex, err)
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch start.Name.Local {
		case "architecture":
			var s string
			if err := d.DecodeElement(&s, &start); err != nil {
				return fmt.Errorf("%w: parsing %s: %v", ErrMalformed, annex, err)
			}
			p.arch = strings.TrimSpace(s)
		case "include":
			href := attr(start, "href")
			if href == "" || len(href) > maxAnnexBytes || strings.ContainsAny(href, ":#$}*/,;") {
				return fmt.Errorf("%w: include of %.64q", ErrMalformed, href)
			}
			if err := p.parse(href, depth+1); err != nil {
				return err
			}
		case "reg":
			if err := p.addReg(start); err != nil {
				return fmt.Errorf("%s: %w", annex, err)
			}
		}
	}
}

func (p *descParser) addReg(start xml.StartElement) error {
	if len(p.regs) >= maxRegisters {
		return fmt.Errorf("%w: more than %d registers", ErrMalformed, maxRegisters)
	}
	r := Register{Name: attr(start, "name"), Type: attr(start, "type"), Group: attr(start, "group"), Num: p.nextNum}
	bits, err := strconv.Atoi(attr(start, "bitsize"))
	if err != nil || bits <= 0 || bits%8 != 0 || bits > maxRegBits {
		return fmt.Errorf("%w: register %.32q has bitsize %.16q", ErrMalformed, r.Name, attr(start, "bitsize"))
	}
	r.Size = bits / 8
	if s := attr(start, "regnum"); s != "" {
		if r.Num, err = strconv.Atoi(s); err != nil || r.Num < 0 || r.Num > maxRegNum {
			return fmt.Errorf("%w: register %.32q has regnum %.16q", ErrMalformed, r.Name, s)
		}
	}
	if r.Name == "" {
		return fmt.Errorf("%w: register %d has no name", ErrMalformed, r.Num)
	}
	p.nextNum = r.Num + 1
	p.regs = append(p.regs, r)
	return nil
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// readFeature reads one target description document with qXfer, chunk by
// chunk; c.mu is held.
func (c *Client) readFeature(annex string) ([]byte, error) {
	chunk := c.packetSize() - 8
	var doc []byte
	for range maxDescChunks {
		req := fmt.Sprintf("qXfer:features:read:%s:%x,%x", annex, len(doc), chunk)
		reply, err := c.exchange([]byte(req))
		if err != nil {
			return nil, err
		}
		if len(reply) == 0 {
			return nil, ErrUnsupported
		}
		doc = append(doc, reply[1:]...)
		if len(doc) > maxDescBytes {
			return nil, fmt.Errorf("%w: %s is over %d bytes", ErrTooLarge, annex, maxDescBytes)
		}
		switch reply[0] {
		case 'l':
			return doc, nil
		case 'm':
			if len(reply) == 1 {
				return nil, fmt.Errorf("%w: empty qXfer chunk", ErrMalformed)
			}
		default:
			return nil, fmt.Errorf("%w: qXfer reply %.16q", ErrMalformed, reply)
		}
	}
	return nil, fmt.Errorf("%w: %s comes in over %d pieces", ErrTooLarge, annex, maxDescChunks)
}

// packetSize is the stub's PacketSize, bounded to what the client accepts.
func (c *Client) packetSize() int {
	n, err := strconv.ParseUint(c.features["PacketSize"], 16, 32)
	if err != nil || n < 256 {
		n = 1024 // conservative default when the stub does not say
	}
	return min(int(n), c.opts.MaxPacket)
}
