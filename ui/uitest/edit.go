package uitest

import (
	"fmt"
	"strconv"
	"strings"

	"nitro/api"
	"nitro/internal/escape"
)

// ErrFlags is the gdbstub listener's refusal of rflags' arithmetic flags,
// as the fake session words it.
var ErrFlags = fmt.Errorf("%w: changing rflags' arithmetic flags (QEMU's gdb stub does not reach them under TCG)", api.ErrNotSupported)

// arithFlags are rflags' CF, PF, AF, ZF, SF and OF.
const arithFlags = 1<<0 | 1<<2 | 1<<4 | 1<<6 | 1<<7 | 1<<11

// uses are what the Linux back end says of the arguments of Script's calls.
var uses = map[string][]api.ArgUse{
	"openat": {{Kind: api.ArgValue, Len: -1}, {Kind: api.ArgString, Len: -1}, {Kind: api.ArgValue, Len: -1}, {Kind: api.ArgValue, Len: -1}},
	"read":   {{Kind: api.ArgValue, Len: -1}, {Kind: api.ArgMemory, Len: 2}, {Kind: api.ArgValue, Len: -1}},
	"write":  {{Kind: api.ArgValue, Len: -1}, {Kind: api.ArgBuffer, Len: 2}, {Kind: api.ArgValue, Len: -1}},
	"mmap":   {{Kind: api.ArgMemory, Len: -1}, {Kind: api.ArgValue, Len: -1}, {Kind: api.ArgValue, Len: -1}},
	"close":  {{Kind: api.ArgValue, Len: -1}},
}

// Uses is what the core's Held says of c's arguments.
func Uses(c api.Syscall) []api.ArgUse {
	u := make([]api.ArgUse, len(c.Args))
	for i := range u {
		u[i] = api.ArgUse{Kind: api.ArgValue, Len: -1}
		if i < len(uses[c.Name]) {
			u[i] = uses[c.Name][i]
		}
	}
	return u
}

// errnos are the few errors the fake names as strace does.
var errnos = map[int64][2]string{2: {"ENOENT", "No such file or directory"}, 13: {"EACCES", "Permission denied"}}

// scratch is where the fake places data that does not fit: below the
// stack's red zone, as the Linux back end does.
const scratch = 0x7ffe0000 - 128

// apply makes e on h, a copy of the held call, as the core does to a
// guest: strings with their NUL, in place when they fit and else moved
// below the stack; buffers within their count unless it changes too.
func apply(h *api.Held, e api.Edit) error {
	c := &h.Call
	switch {
	case e.Reg != "":
		for i := range h.Regs {
			r := &h.Regs[i]
			if !strings.EqualFold(r.Name, e.Reg) {
				continue
			}
			if r.Name == "rflags" && (r.Value^e.Value)&arithFlags != 0 {
				return ErrFlags
			}
			r.Value = e.Value
			return nil
		}
		return fmt.Errorf("no register %q", e.Reg)
	case e.Ret:
		if !c.IsExit() {
			return api.ErrNotAtExit
		}
		c.Ret, c.Errno, c.RetText = int64(e.Value), "", strconv.FormatInt(int64(e.Value), 10)
		if c.Ret < 0 && c.Ret > -4096 {
			c.Errno, c.RetText = fmt.Sprintf("E%d", -c.Ret), fmt.Sprintf("-1 E%d", -c.Ret)
			if n, ok := errnos[-c.Ret]; ok {
				c.Errno, c.RetText = n[0], "-1 "+n[0]+" ("+n[1]+")"
			}
		}
		return nil
	case e.Arg < 0 || e.Arg >= len(c.Args):
		return fmt.Errorf("no argument %d", e.Arg)
	case e.Data == nil && c.IsExit():
		return api.ErrReadOnlyArgs
	case e.Data == nil:
		c.Args[e.Arg] = api.Arg{Raw: e.Value, Text: fmt.Sprintf("%#x", e.Value)}
		return nil
	}
	if err := write(h, e); err != nil {
		return fmt.Errorf("%s's argument %d: %w", c.Name, e.Arg, err)
	}
	return nil
}

// write makes a bytes edit of h's argument e.Arg.
func write(h *api.Held, e api.Edit) error {
	c := &h.Call
	u := h.Uses[e.Arg]
	a := &c.Args[e.Arg]
	room := uint64(^uint64(0) >> 1)
	switch {
	case e.String && u.Kind != api.ArgString:
		return api.ErrNotString
	case u.Kind == api.ArgValue:
		return api.ErrNotPointer
	case !e.String && u.Kind == api.ArgString:
		return api.ErrIsString
	case e.String:
		old, _ := strconv.Unquote(a.Text)
		room = uint64(len(old))
	case u.Len >= 0:
		room = c.Args[u.Len].Raw
	}
	fits := uint64(len(e.Data)) <= room
	switch {
	case !fits && !e.String && !e.Len:
		return fmt.Errorf("%d bytes, %d counted: %w", len(e.Data), room, api.ErrTooLong)
	case (!fits || e.Len) && c.IsExit():
		return api.ErrReadOnlyArgs
	case !fits:
		a.Raw = (scratch - uint64(len(e.Data)) - 1) &^ 15
	}
	a.Text = `"` + escape.Bytes(e.Data) + `"`
	if e.Len {
		c.Args[u.Len] = api.Arg{Raw: uint64(len(e.Data)), Text: strconv.Itoa(len(e.Data))}
	}
	return nil
}
