package strace

import (
	"encoding/binary"
	"math"
	"strconv"

	"nitro/core/backend"
)

// clone's argument registers in both ABIs.
const (
	cloneRegFlags = 0
	cloneRegStack = 1
	cloneRegPtid  = 2
)

// cloneTidRegs returns the registers of clone's child_tidptr and tls:
// x86-64 passes child_tidptr first, i386 tls.
func cloneTidRegs(i386 bool) (ctid, tls int) {
	if i386 {
		return 4, 3
	}
	return 3, 4
}

// cloneArgs returns the registers of clone's arguments in the order strace
// shows them, and their labels: child_stack and flags, then those the
// flags make the kernel use.
func cloneArgs(i386 bool, flags uint64) (regs [5]int, labels [5]string, n int) {
	ctid, tls := cloneTidRegs(i386)
	add := func(r int, label string) {
		regs[n], labels[n] = r, label
		n++
	}
	add(cloneRegStack, "child_stack=")
	add(cloneRegFlags, "flags=")
	if flags&(cloneParentSettid|clonePidfd) != 0 {
		add(cloneRegPtid, "parent_tid=")
	}
	if flags&cloneSettls != 0 {
		add(tls, "tls=")
	}
	if flags&(cloneChildSettid|cloneChildCleartid) != 0 {
		add(ctid, "child_tidptr=")
	}
	return regs, labels, n
}

// clone decodes clone's arguments as strace does: labelled and in its
// order (cloneArgs), each Arg holding the register it shows. The tid the
// kernel stores at parent_tid (or the pidfd) shows after a success; an
// i386 caller's tls is a struct user_desc.
func (d *Decoder) clone(c *call) []backend.Arg {
	regs, labels, n := cloneArgs(c.tab.i386, c.args[cloneRegFlags])
	_, tls := cloneTidRegs(c.tab.i386)
	out := make([]backend.Arg, n)
	for i := range n {
		r := regs[i]
		v := c.args[r]
		dst := append(d.text[:0], labels[i]...)
		switch {
		case r == cloneRegFlags:
			dst = appendCloneFlags(dst, v)
		case r == cloneRegPtid && c.done:
			dst = d.appendIntPtr(dst, c.mem, v)
		case r == tls && c.tab.i386:
			dst = d.appendUserDesc(dst, c.mem, v)
		default:
			dst = appendPtr(dst, v)
		}
		out[i] = backend.Arg{Raw: v, Text: d.finish(dst)}
	}
	return out
}

// ArgRegister returns the argument register (0 to 5) whose value
// sc.Args[i] holds, for a call this package decoded, or -1 for none: it is
// i but for clone, whose arguments strace shows in its own order, and
// rt_sigreturn and sigreturn, whose one argument is the signal mask they
// restore, read off the stack.
func ArgRegister(sc *backend.Syscall, i int) int {
	if i < 0 || i >= len(sc.Args) {
		return -1
	}
	t := For(sc.ABI)
	if e := t.lookup(sc.Nr); e != nil {
		switch e.sp {
		case spClone:
			if len(sc.Args) < 2 {
				return -1
			}
			if regs, _, n := cloneArgs(t.i386, sc.Args[1].Raw); i < n { // Args[1] is flags=
				return regs[i]
			}
			return -1
		case spRtSigreturn, spSigreturn:
			return -1
		case spFutex:
			if len(sc.Args) < 2 {
				return -1
			}
			return futexReg(sc.Args[1].Raw, i)
		}
	}
	return i
}

// appendIntPtr writes the int at va as strace's printnum_int does: [42].
func (d *Decoder) appendIntPtr(dst []byte, mem Memory, va uint64) []byte {
	n, ok := d.readInt32(mem, va)
	if !ok {
		return appendPtr(dst, va)
	}
	dst = append(dst, '[')
	dst = strconv.AppendInt(dst, int64(n), 10)
	return append(dst, ']')
}

// appendUserDesc writes an i386 struct user_desc (a TLS segment) as strace
// does.
func (d *Decoder) appendUserDesc(dst []byte, mem Memory, va uint64) []byte {
	const size = 16
	b, ok := d.read(mem, va, size)
	if !ok {
		return appendPtr(dst, va)
	}
	le := binary.LittleEndian
	dst = append(dst, "{entry_number="...)
	if n := le.Uint32(b); n == math.MaxUint32 {
		dst = append(dst, "-1"...)
	} else {
		dst = strconv.AppendUint(dst, uint64(n), 10)
	}
	dst = append(dst, ", base_addr="...)
	dst = appendHexWidth(dst, uint64(le.Uint32(b[4:])), 8)
	dst = append(dst, ", limit="...)
	dst = appendHexWidth(dst, uint64(le.Uint32(b[8:])), 8)
	bits := le.Uint32(b[12:])
	for _, f := range [...]struct {
		name        string
		shift, mask uint32
	}{
		{", seg_32bit=", 0, 1}, {", contents=", 1, 3}, {", read_exec_only=", 3, 1},
		{", limit_in_pages=", 4, 1}, {", seg_not_present=", 5, 1}, {", useable=", 6, 1},
	} {
		dst = append(dst, f.name...)
		dst = strconv.AppendUint(dst, uint64(bits>>f.shift&f.mask), 10)
	}
	return append(dst, '}')
}

// appendHexWidth writes v as C's "%#0*x" with width w: 0x and zeros up to
// w characters, but no 0x for zero.
func appendHexWidth(dst []byte, v uint64, w int) []byte {
	var tmp [16]byte
	h := strconv.AppendUint(tmp[:0], v, 16)
	pad := w - len(h)
	if v != 0 {
		dst = append(dst, "0x"...)
		pad -= 2
	}
	for ; pad > 0; pad-- {
		dst = append(dst, '0')
	}
	return append(dst, h...)
}

// struct clone_args as strace 6.1 knows it: the fields' offsets and sizes.
const (
	cloneArgsVer0     = 64 // up to tls: the least clone3 takes
	cloneArgsSize     = 88 // up to cgroup
	cloneArgsCgroupAt = 80
	cloneSetTidMax    = 32 // the most pids set_tid may hold
)

// appendClone3 writes clone3's struct clone_args, the first size bytes of
// it (size is clone3's second argument), as strace does; at a successful
// exit it adds what the call stored: " => {pidfd=[3], parent_tid=[42]}".
func (d *Decoder) appendClone3(dst []byte, c *call, va uint64) []byte {
	size := c.args[1]
	fetch := min(size, cloneArgsSize)
	if fetch < cloneArgsVer0 {
		return appendPtr(dst, va)
	}
	b, ok := d.read(c.mem, va, int(fetch))
	if !ok {
		return appendPtr(dst, va)
	}
	var a [cloneArgsSize / 8]uint64 // what size leaves out is zero
	var raw [cloneArgsSize]byte
	copy(raw[:], b)
	for i := range a {
		a[i] = binary.LittleEndian.Uint64(raw[8*i:])
	}
	flags, pidfd, childTid, parentTid, exitSignal := a[0], a[1], a[2], a[3], a[4]
	stack, stackSize, tls, setTid, setTidSize, cgroup := a[5], a[6], a[7], a[8], a[9], a[10]

	dst = append(dst, "{flags="...)
	dst = appendFlags(dst, flags, clone3Flags, "0", "CLONE_???")
	if flags&clonePidfd != 0 {
		dst = append(dst, ", pidfd="...)
		dst = appendPtr(dst, pidfd)
	}
	if flags&(cloneChildSettid|cloneChildCleartid) != 0 {
		dst = append(dst, ", child_tid="...)
		dst = appendPtr(dst, childTid)
	}
	if flags&cloneParentSettid != 0 {
		dst = append(dst, ", parent_tid="...)
		dst = appendPtr(dst, parentTid)
	}
	dst = append(dst, ", exit_signal="...)
	if exitSignal < math.MaxInt32 {
		dst = appendSignal(dst, int64(exitSignal), true)
	} else {
		dst = strconv.AppendUint(dst, exitSignal, 10)
	}
	dst = append(dst, ", stack="...)
	dst = appendPtr(dst, stack)
	dst = append(dst, ", stack_size="...)
	dst = appendHex(dst, stackSize)
	if flags&cloneSettls != 0 {
		dst = append(dst, ", tls="...)
		if c.tab.i386 {
			dst = d.appendUserDesc(dst, c.mem, tls)
		} else {
			dst = appendPtr(dst, tls)
		}
	}
	if setTid != 0 || setTidSize != 0 {
		dst = append(dst, ", set_tid="...)
		if setTid == 0 || setTidSize == 0 || setTidSize > cloneSetTidMax {
			dst = appendPtr(dst, setTid)
		} else {
			dst = d.appendIntArray(dst, c.mem, setTid, int(setTidSize))
		}
		dst = append(dst, ", set_tid_size="...)
		dst = strconv.AppendUint(dst, setTidSize, 10)
	}
	if fetch > cloneArgsCgroupAt && (cgroup != 0 || flags&cloneIntoCgroup != 0) {
		dst = append(dst, ", cgroup="...)
		dst = strconv.AppendUint(dst, cgroup, 10)
	}
	dst = append(dst, '}')
	if !c.done {
		return dst
	}
	// The exit: what the kernel stored where the struct pointed.
	sep := " => {"
	if flags&clonePidfd != 0 {
		dst = append(append(dst, sep...), "pidfd="...)
		dst = d.appendIntPtr(dst, c.mem, pidfd)
		sep = ", "
	}
	if flags&cloneParentSettid != 0 {
		dst = append(append(dst, sep...), "parent_tid="...)
		dst = d.appendIntPtr(dst, c.mem, parentTid)
		sep = ", "
	}
	if sep == ", " {
		dst = append(dst, '}')
	}
	return dst
}

// appendIntArray writes n ints at va, at most ArrayLimit of them: [1, 2].
func (d *Decoder) appendIntArray(dst []byte, mem Memory, va uint64, n int) []byte {
	shown := min(n, d.opts.ArrayLimit)
	b, ok := d.read(mem, va, 4*shown)
	if !ok {
		return appendPtr(dst, va)
	}
	dst = append(dst, '[')
	for i := range shown {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = strconv.AppendInt(dst, int64(int32(binary.LittleEndian.Uint32(b[4*i:]))), 10)
	}
	if n > shown {
		dst = append(dst, ", ..."...)
	}
	return append(dst, ']')
}

// StackMemory is a Memory that also knows the user stack pointer at the
// call's entry. rt_sigreturn and sigreturn take no argument: strace shows
// the signal mask they restore, which it reads from the signal frame on
// the stack; with a plain Memory they show as "rt_sigreturn()".
type StackMemory interface {
	Memory
	StackPointer() (sp uint64, ok bool)
}

// Where the signal mask lies from the stack pointer at the entry of
// rt_sigreturn: the handler's return has popped the frame's pretcode, so
// sp is a word past the struct rt_sigframe, whose uc.uc_sigmask is 8 + 296
// bytes in on x86-64 (pretcode, then uc) and 16 + 128 + 108 on i386
// (pretcode, sig, pinfo, puc, info, then uc). i386's sigreturn has popped
// the signal number too: sp is its struct sigcontext, whose oldmask holds
// the low 32 signals; the high ones follow the 624-byte fpstate as
// extramask.
const (
	rtSigmaskX8664  = 8 + 296 - 8
	rtSigmaskI386   = 16 + 128 + 108 - 4
	sigOldmaskAt    = 80
	sigExtramaskAt  = 88 + 624
	sigreturnFrameN = sigExtramaskAt + 4
)

// sigreturn decodes rt_sigreturn's (or i386 sigreturn's) one shown
// argument: {mask=[...]}, read at entry; the exit's registers are those of
// the code the signal interrupted, so it keeps the entry's text.
func (d *Decoder) sigreturn(c *call, entry []backend.Arg) []backend.Arg {
	if c.exit {
		return append([]backend.Arg(nil), entry...)
	}
	sm, ok := c.mem.(StackMemory)
	if !ok {
		return nil
	}
	sp, ok := sm.StackPointer()
	if !ok {
		return nil
	}
	sp = c.tab.word(sp)
	dst := d.text[:0]
	if c.e.sp == spSigreturn {
		b, ok := d.read(c.mem, sp, sigreturnFrameN)
		if !ok {
			dst = appendPtr(dst, sp)
		} else {
			le := binary.LittleEndian
			mask := uint64(le.Uint32(b[sigOldmaskAt:])) | uint64(le.Uint32(b[sigExtramaskAt:]))<<32
			dst = append(appendSignalSet(append(dst, "{mask="...), mask), '}')
		}
	} else {
		at := sp + rtSigmaskX8664
		if c.tab.i386 {
			at = c.tab.word(sp + rtSigmaskI386)
		}
		dst = append(d.appendSigset(append(dst, "{mask="...), c.mem, at, 8), '}')
	}
	return []backend.Arg{{Raw: sp, Text: d.finish(dst)}}
}
