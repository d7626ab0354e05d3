package windows

import (
	"bytes"
	"fmt"

	"nitro/core/backend"
	"nitro/core/vmi"
)

// Bounds of the walks over guest lists: a hostile or torn list (a cycle,
// a huge list) costs at most this much.
const (
	maxProcesses  = 1 << 14
	maxThreads    = 1 << 16 // of all processes together
	imageNameLen  = 15      // EPROCESS.ImageFileName: 15 bytes, not always NUL-terminated
	statusPending = 0x103   // an EPROCESS's ExitStatus while it runs
)

// wow64Mark follows a WOW64 process's name, as Task Manager marks them.
const wow64Mark = " *32"

// procInfo is what the back end reads of one EPROCESS.
type procInfo struct {
	pid, ppid int
	name      string
	wow64     bool
	exited    bool
}

// readProcess reads an EPROCESS's identity.
func (b *Backend) readProcess(k vmi.Space, eproc uint64) (procInfo, error) {
	l := b.layout
	pid, err := k.U64(eproc + l.EProcPID)
	if err != nil {
		return procInfo{}, fmt.Errorf("reading EPROCESS %#x: %w", eproc, err)
	}
	ppid, _ := k.U64(eproc + l.EProcPPID)
	var name [imageNameLen]byte
	_ = k.Read(name[:], eproc+l.EProcName) // an unreadable name reads empty
	n := bytes.IndexByte(name[:], 0)
	if n < 0 {
		n = len(name)
	}
	wow, _ := k.U64(eproc + l.EProcWow64)
	p := procInfo{pid: int(uint32(pid)), ppid: int(uint32(ppid)), name: string(name[:n]), wow64: wow != 0}
	if l.EProcExit != 0 {
		if st, err := k.U32(eproc + l.EProcExit); err == nil && st != statusPending {
			p.exited = true
		}
	}
	return p, nil
}

// comm is the name shown for a process: its image name, marked for WOW64.
func (p procInfo) comm() string {
	if p.wow64 {
		return p.name + wow64Mark
	}
	return p.name
}

// Processes lists every process from PsActiveProcessHead, each followed by
// its threads. A process shows as a task whose TID is its PID, as the
// faces group them, marked NotThread: Windows gives a process's threads
// ids of their own, so that row is none of them. An exited process with
// no thread left, kept in the list by a handle, is left out.
func (b *Backend) Processes() ([]backend.Process, error) {
	b.mem.Invalidate()
	k, l := b.kern, b.layout
	head := b.base + l.Symbols["PsActiveProcessHead"]
	var out []backend.Process
	threads := 0
	seen := make(map[uint64]bool)
	next, err := k.U64(head)
	if err != nil {
		return nil, fmt.Errorf("reading PsActiveProcessHead: %w", err)
	}
	for next != head && len(seen) < maxProcesses && !seen[next] {
		seen[next] = true
		eproc := next - l.EProcLinks
		if next, err = k.U64(next); err != nil {
			return out, fmt.Errorf("following the process list at %#x: %w", eproc+l.EProcLinks, err)
		}
		p, err := b.readProcess(k, eproc)
		if err != nil {
			continue
		}
		ths := b.threads(k, eproc, &threads)
		if p.exited && len(ths) == 0 {
			continue
		}
		comm := p.comm()
		out = append(out, backend.Process{PID: p.pid, TID: p.pid, PPID: p.ppid, Comm: comm, Task: eproc,
			Image: b.imagePath(k, eproc), NotThread: true})
		for _, t := range ths {
			out = append(out, backend.Process{PID: p.pid, TID: t.tid, PPID: p.ppid, Comm: comm, Task: t.ethread})
		}
	}
	return out, nil
}

// maxImageChars bounds the characters read of each image path, whatever
// its UNICODE_STRING's Length says (up to 32767): a long list of
// processes with hostile lengths costs at most this much each.
const maxImageChars = 1024

// imagePath is the full path of the EPROCESS's image: the UNICODE_STRING
// at the start of the OBJECT_NAME_INFORMATION that SeAuditProcessCreationInfo
// points to, cut to maxImageChars with "..." after it. It is "" when the
// layout lacks the field or the guest's pointers lead to nothing readable
// (System has no image): one process's path is not worth the listing.
func (b *Backend) imagePath(k vmi.Space, eproc uint64) string {
	if b.layout.EProcAudit == 0 {
		return ""
	}
	info, err := k.U64(eproc + b.layout.EProcAudit)
	if err != nil || !kernelAddr(info) {
		return ""
	}
	n, buf, err := unicodeHeader(k, info)
	if err != nil || !kernelAddr(buf) {
		return ""
	}
	text, cut, err := readUTF16(k, buf, n, maxImageChars)
	if err != nil {
		return ""
	}
	if cut {
		text += "..."
	}
	return text
}

type threadInfo struct {
	tid     int
	ethread uint64
}

// threads lists a process's threads, counting them in *total against
// maxThreads.
func (b *Backend) threads(k vmi.Space, eproc uint64, total *int) []threadInfo {
	l := b.layout
	head := eproc + l.EProcThreads
	next, err := k.U64(head)
	var out []threadInfo
	seen := make(map[uint64]bool)
	for err == nil && next != head && *total < maxThreads && !seen[next] {
		seen[next] = true
		*total++
		et := next - l.EThreadList
		if tid, err := k.U64(et + l.EThreadCid + 8); err == nil && tid != 0 {
			out = append(out, threadInfo{tid: int(uint32(tid)), ethread: et})
		}
		next, err = k.U64(next)
	}
	return out
}
