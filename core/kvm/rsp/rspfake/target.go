package rspfake

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Target is a simulated machine served as QEMU 7.2's gdbstub serves a VM:
// all-stop, thread N is vCPU N-1, ack mode only (no QStartNoAckMode unless
// NoAck is set), `P` refused until target.xml was read, a breakpoint at the
// current rip stops a resume or step at once, any byte received while
// running stops the machine. Like QEMU, breakpoints outlive a client that
// closes without detaching until the next client asks `?` (QEMU then
// removes them all, as gdb connecting anew), inserting one twice at an
// address needs two removals (Z0 and Z1 alike, as under TCG), and removing
// one that is not there fails (E22).
type Target struct {
	CPUs []*CPU
	// Mem is guest-physical memory from address 0. Virtual address
	// VirtBase+x maps to physical x; lower virtual addresses do not map.
	Mem      []byte
	VirtBase uint64
	// Exec runs one instruction of CPU i: the program under test. Nil
	// advances rip by one.
	Exec func(t *Target, i int)
	// MaxSteps bounds the instructions per resume; after that the machine
	// idles (runs without stopping) until interrupted.
	MaxSteps int
	// NoAck makes the fake accept QStartNoAckMode.
	NoAck bool
	// RLE makes the fake run-length encode its replies.
	RLE bool
	// Fail makes packets starting with it fail (E01), as a stub that
	// breaks at that step of a handshake.
	Fail string
	// failAfter lets that many packets starting with Fail through first
	// (see FailAfter).
	failAfter int
	// KeepBreakpoints makes `?` leave breakpoints in place, as a stub
	// that does not clear a dead client's when the next one connects.
	KeepBreakpoints bool
	// NoHardware makes the fake answer Z1 and z1 with an empty packet, as
	// a stub without hardware breakpoints does.
	NoHardware bool

	mu         sync.Mutex
	stalls     int            // single steps still to answer without running
	bps        map[uint64]int // insertions not yet removed, by address
	noAck      bool
	multi      bool
	physMode   bool
	xmlRead    bool
	running    bool
	detached   bool
	gCPU, cCPU int
	resumes    int
	packets    []string
	violations []string
}

// New returns a target with n vCPUs and memSize bytes of memory.
func New(n, memSize int) *Target {
	t := &Target{Mem: make([]byte, memSize), MaxSteps: 100000, bps: make(map[uint64]int)}
	for range n {
		t.CPUs = append(t.CPUs, newCPU())
	}
	return t
}

// Dial serves the target on one end of a pipe and returns the other.
func (t *Target) Dial() net.Conn {
	client, server := net.Pipe()
	go func() {
		_ = t.Serve(server)
		server.Close()
	}()
	return client
}

// FailAfter makes packets starting with prefix fail (E01) once n of them
// have gone through: a client that dies in the middle of a sequence of
// writes, as far as the machine can tell.
func (t *Target) FailAfter(prefix string, n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.Fail, t.failAfter = prefix, n
}

// Breakpoints lists the breakpoint addresses currently set.
func (t *Target) Breakpoints() []uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var a []uint64
	for addr := range t.bps {
		a = append(a, addr)
	}
	slices.Sort(a)
	return a
}

// Detached reports whether the debugger detached.
func (t *Target) Detached() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.detached
}

// Running reports whether the machine runs (resumed or detached).
func (t *Target) Running() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.running || t.detached
}

// Count returns how many packets received so far start with prefix.
func (t *Target) Count(prefix string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, p := range t.packets {
		if strings.HasPrefix(p, prefix) {
			n++
		}
	}
	return n
}

// Violations lists protocol misuse seen: bytes other than the interrupt
// sent while the machine ran (QEMU would stop the VM on them).
func (t *Target) Violations() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.violations)
}

// Virt returns the n bytes of memory at virtual address va, or nil if they
// are not all mapped. Exec programs use it for loads and stores.
func (t *Target) Virt(va uint64, n int) []byte {
	if va < t.VirtBase {
		return nil
	}
	return t.phys(va-t.VirtBase, n)
}

func (t *Target) phys(pa uint64, n int) []byte {
	if pa > uint64(len(t.Mem)) || uint64(n) > uint64(len(t.Mem))-pa {
		return nil
	}
	return t.Mem[pa : pa+uint64(n)]
}

// Serve speaks the protocol on conn until it closes.
func (t *Target) Serve(conn io.ReadWriter) error {
	// Like QEMU: a new debugger starts in ack mode, attached, and the
	// machine stops when it connects.
	t.mu.Lock()
	t.noAck, t.multi, t.xmlRead, t.physMode = false, false, false, false
	t.running, t.detached = false, false
	t.mu.Unlock()
	br := bufio.NewReader(conn)
	for {
		b, err := br.ReadByte()
		if err != nil {
			return err
		}
		var payload string
		if b == '$' {
			if payload, err = readPayload(br); err != nil {
				return err
			}
		}
		t.mu.Lock()
		ack := b == '$' && !t.noAck // QStartNoAckMode itself is acknowledged
		reply, send := t.handleByte(b, payload)
		rle := t.RLE
		t.mu.Unlock()
		if ack {
			if _, err := conn.Write([]byte("+")); err != nil {
				return err
			}
		}
		if send {
			if _, err := conn.Write(frame(reply, rle)); err != nil {
				return err
			}
		}
	}
}

func readPayload(br *bufio.Reader) (string, error) {
	var b strings.Builder
	escaped := false
	for {
		c, err := br.ReadByte()
		if err != nil {
			return "", err
		}
		switch {
		case escaped:
			b.WriteByte(c ^ 0x20)
			escaped = false
		case c == '}':
			escaped = true
		case c == '#':
			var cs [2]byte
			_, err := io.ReadFull(br, cs[:])
			return b.String(), err
		default:
			b.WriteByte(c)
		}
	}
}

func frame(data string, rle bool) []byte {
	var body []byte
	for i := 0; i < len(data); {
		j := i
		for j < len(data) && data[j] == data[i] && j-i < 98 {
			j++
		}
		repeat := j - i - 1
		if !rle || repeat < 3 || strings.IndexByte("$#}*", data[i]) >= 0 {
			body = append(body, data[i])
			i++
			continue
		}
		if repeat == 6 || repeat == 7 { // would encode as '#' or '$'
			repeat = 5
		}
		body = append(body, data[i], '*', byte(repeat+29))
		i += repeat + 1
	}
	var sum byte
	for _, c := range body {
		sum += c
	}
	return fmt.Appendf(nil, "$%s#%02x", body, sum)
}

// handleByte handles one byte or packet from the client; t.mu is held.
func (t *Target) handleByte(b byte, payload string) (string, bool) {
	if t.running {
		// Like QEMU: whatever arrives stops the machine, and a packet
		// sent while running is lost.
		if b != 0x03 {
			t.violations = append(t.violations, fmt.Sprintf("%q while running", string(b)+payload))
		}
		t.running = false
		return t.stopReply(2, t.cCPU), true
	}
	if b != '$' {
		return "", false // acks, and interrupts of a stopped machine
	}
	t.packets = append(t.packets, payload)
	if t.detached {
		return "", true
	}
	return t.handle(payload)
}

func (t *Target) stopReply(sig, cpu int) string {
	return fmt.Sprintf("T%02xthread:p01.%02x;", sig, cpu+1)
}

// handle answers one packet; false means no reply is due yet (the
// machine runs).
func (t *Target) handle(p string) (string, bool) {
	if t.Fail != "" && strings.HasPrefix(p, t.Fail) {
		if t.failAfter == 0 {
			return "E01", true
		}
		t.failAfter--
	}
	switch {
	case strings.HasPrefix(p, "qSupported"):
		t.multi = strings.Contains(p, "multiprocess+")
		return "PacketSize=1000;qXfer:features:read+;vContSupported+;multiprocess+", true
	case p == "QStartNoAckMode":
		if !t.NoAck {
			return "", true
		}
		t.noAck = true
		return "OK", true
	case strings.HasPrefix(p, "qXfer:features:read:"):
		return t.xfer(strings.TrimPrefix(p, "qXfer:features:read:")), true
	case p == "vCont?":
		return "vCont;c;C;s;S", true
	case p == "?":
		if !t.KeepBreakpoints {
			clear(t.bps)
		}
		return t.stopReply(5, t.cCPU), true
	case p == "g":
		return hex.EncodeToString(t.CPUs[t.gCPU].raw), true
	case p == "qfThreadInfo":
		var ids []string
		for i := range t.CPUs {
			ids = append(ids, fmt.Sprintf("p01.%02x", i+1))
		}
		return "m" + strings.Join(ids, ","), true
	case p == "qsThreadInfo":
		return "l", true
	case p == "c" || p == "vCont;c":
		return t.resume(-1)
	case p == "s":
		return t.resume(t.cCPU)
	case strings.HasPrefix(p, "vCont;s:"):
		cpu, ok := t.thread(strings.TrimPrefix(p, "vCont;s:"))
		if !ok {
			return "E22", true
		}
		return t.resume(cpu)
	case p == "D" || strings.HasPrefix(p, "D;"):
		if t.multi != (p != "D") {
			return "E22", true
		}
		clear(t.bps)
		t.detached = true
		return "OK", true
	}
	return t.handleData(p), true
}

// handleData answers the packets that read or write machine state.
func (t *Target) handleData(p string) string {
	switch p[0] {
	case 'G':
		raw, err := hex.DecodeString(p[1:])
		if err != nil || len(raw) != gSize {
			return "E22"
		}
		copy(t.CPUs[t.gCPU].raw, raw)
		return "OK"
	case 'p', 'P':
		num, val, _ := strings.Cut(p[1:], "=")
		n, err := strconv.ParseUint(num, 16, 16)
		if err != nil || int(n) >= len(registers) {
			return "E22"
		}
		off, size := offsets[registers[n].name], registers[n].bits/8
		reg := t.CPUs[t.gCPU].raw[off : off+size]
		if p[0] == 'p' {
			return hex.EncodeToString(reg)
		}
		if !t.xmlRead {
			return "" // QEMU 7.2 refuses P until the client read target.xml
		}
		v, err := hex.DecodeString(val)
		if err != nil || len(v) != size {
			return "E22"
		}
		copy(reg, v)
		return "OK"
	case 'm', 'M':
		return t.memory(p)
	case 'Z', 'z':
		var kind int
		var addr uint64
		if _, err := fmt.Sscanf(p[1:], "%d,%x,", &kind, &addr); err != nil || kind > 1 || kind == 1 && t.NoHardware {
			return ""
		}
		switch {
		case p[0] == 'Z':
			t.bps[addr]++
		case t.bps[addr] == 0:
			return "E22"
		case t.bps[addr] == 1:
			delete(t.bps, addr)
		default:
			t.bps[addr]--
		}
		return "OK"
	case 'H':
		cpu, ok := t.thread(p[2:])
		if !ok || (p[1] != 'g' && p[1] != 'c') {
			return "E22"
		}
		if p[1] == 'g' {
			t.gCPU = cpu
		} else {
			t.cCPU = cpu
		}
		return "OK"
	case 'Q':
		switch p {
		case "Qqemu.PhyMemMode:1":
			t.physMode = true
			return "OK"
		case "Qqemu.PhyMemMode:0":
			t.physMode = false
			return "OK"
		}
	}
	return ""
}

func (t *Target) memory(p string) string {
	spec, data, _ := strings.Cut(p[1:], ":")
	var addr uint64
	var n int
	if _, err := fmt.Sscanf(spec, "%x,%x", &addr, &n); err != nil || n < 0 || n > 0x800 {
		return "E22"
	}
	var mem []byte
	if t.physMode {
		mem = t.phys(addr, n)
	} else {
		mem = t.Virt(addr, n)
	}
	if mem == nil {
		return "E14"
	}
	if p[0] == 'm' {
		return hex.EncodeToString(mem)
	}
	v, err := hex.DecodeString(data)
	if err != nil || len(v) != n {
		return "E22"
	}
	copy(mem, v)
	return "OK"
}

// thread parses a thread id into a vCPU index; "-1" and "0" pick vCPU 0.
func (t *Target) thread(s string) (int, bool) {
	if _, tid, ok := strings.Cut(s, "."); ok {
		s = tid
	} else if strings.HasPrefix(s, "p") {
		s = "-1"
	}
	if s == "-1" || s == "0" {
		return 0, true
	}
	n, err := strconv.ParseUint(s, 16, 16)
	if err != nil || n == 0 || int(n) > len(t.CPUs) {
		return 0, false
	}
	return int(n) - 1, true
}

func (t *Target) xfer(args string) string {
	annex, rng, _ := strings.Cut(args, ":")
	var off, n int
	doc, ok := descriptions[annex]
	if _, err := fmt.Sscanf(rng, "%x,%x", &off, &n); err != nil || !ok || off < 0 || n <= 0 {
		return "E00"
	}
	if annex == "target.xml" {
		t.xmlRead = true
	}
	if off >= len(doc) {
		return "l"
	}
	end := min(off+n, len(doc))
	if end == len(doc) {
		return "l" + doc[off:end]
	}
	return "m" + doc[off:end]
}

// resume runs the machine: one vCPU for a step (step >= 0), all of them
// round-robin for a continue, until a breakpoint or MaxSteps.
// StallSteps makes the next n single steps report their vCPU stopped where
// it was, without running it, as QEMU sometimes does with several vCPUs.
func (t *Target) StallSteps(n int) {
	t.mu.Lock()
	t.stalls = n
	t.mu.Unlock()
}

func (t *Target) resume(step int) (string, bool) {
	t.resumes++
	if step >= 0 {
		if t.stalls > 0 {
			t.stalls--
		} else if t.bps[t.CPUs[step].Get("rip")] == 0 {
			t.exec(step)
		}
		t.gCPU, t.cCPU = step, step
		return t.stopReply(5, step), true
	}
	for n := 0; n < t.MaxSteps; n++ {
		i := (t.resumes + n) % len(t.CPUs)
		if t.bps[t.CPUs[i].Get("rip")] > 0 {
			t.gCPU, t.cCPU = i, i
			return t.stopReply(5, i), true
		}
		t.exec(i)
	}
	t.running = true
	return "", false
}

func (t *Target) exec(i int) {
	if t.Exec == nil {
		t.CPUs[i].Set("rip", t.CPUs[i].Get("rip")+1)
		return
	}
	t.Exec(t, i)
}
