package wintest

import (
	"encoding/binary"
	"fmt"
	"unicode/utf16"

	"nitro/core/backend/windows/ntsvc"
	"nitro/core/vmi"
	"nitro/core/vmi/vmitest"
)

// Build is one ntoskrnl build of the facts file: its PDB GUID and the
// numbers that differ between builds.
type Build struct {
	Name string
	GUID [16]byte // as the RSDS record stores it
	Age  uint32
	// Structure offsets that move between 7601 updates.
	Cid, ThreadListEntry uint64
	// Symbols, relative to the kernel base.
	KiInitialPCR, KiSystemCall64, KiServiceTable      uint64
	KeServiceDescriptorTable, KeServiceDescriptorShdw uint64
	PsActiveProcessHead, PsInitialSystemProcess       uint64
	NtBuildNumber, KiDivideErrorFault                 uint64
}

// guid turns the facts' text form (Data1, Data2, Data3 as hex numbers,
// then Data4's bytes) into the RSDS record's bytes.
func guid(s string) [16]byte {
	var raw [16]byte
	for i := range raw {
		fmt.Sscanf(s[2*i:2*i+2], "%02X", &raw[i])
	}
	var g [16]byte
	binary.LittleEndian.PutUint32(g[0:], binary.BigEndian.Uint32(raw[0:]))
	binary.LittleEndian.PutUint16(g[4:], binary.BigEndian.Uint16(raw[4:]))
	binary.LittleEndian.PutUint16(g[6:], binary.BigEndian.Uint16(raw[6:]))
	copy(g[8:], raw[8:])
	return g
}

// The builds of the facts file.
var (
	Build17514 = Build{
		Name: "7601.17514", GUID: guid("3844DBB920174967BE7AA4A2C20430FA"), Age: 2,
		Cid: 0x3b0, ThreadListEntry: 0x420,
		KiInitialPCR: 0x1f2d00, KiSystemCall64: 0x7f640, KiServiceTable: 0x81300,
		KeServiceDescriptorTable: 0x2b1840, KeServiceDescriptorShdw: 0x2b1880,
		PsActiveProcessHead: 0x227b90, PsInitialSystemProcess: 0x2b1030,
		NtBuildNumber: 0x1b6770, KiDivideErrorFault: 0x7d3c0,
	}
	BuildLater = Build{
		Name: "7601 later", GUID: guid("2E37F962D699492CAAF3F9F4E9770B1D"), Age: 2,
		Cid: 0x3b8, ThreadListEntry: 0x428,
		KiInitialPCR: 0x1f1d00, KiSystemCall64: 0x73ec0, KiServiceTable: 0x75b00,
		KeServiceDescriptorTable: 0x2ae940, KeServiceDescriptorShdw: 0x2ae980,
		PsActiveProcessHead: 0x226590, PsInitialSystemProcess: 0x2ae030,
		NtBuildNumber: 0x1b5a90, KiDivideErrorFault: 0x71c40,
	}
	Builds = []Build{Build17514, BuildLater}
)

// Where the synthetic guest puts things.
const (
	MemSize    = 16 << 20
	KernelBase = 0xfffff80002601000
	KernelCR3  = 0x187000 // the System process's DirectoryTableBase, as on real 17514 images
	imagePhys  = 0x400000
	imageSize  = 0x300000
	poolBase   = 0xfffffa8000c00000 // nonpaged pool: EPROCESS, ETHREAD, IDT, strings
	poolPhys   = 0x800000
	poolSize   = 0x100000
	tablePhys  = 0x200000 // page-table pages, allocated upwards
	userPhys   = 0xa00000 // user pages, 16 per process
	userPages  = 16

	// User addresses, the same in every process.
	TEB      = 0x7fffffde000
	StackTop = 0x300000 // rsp starts below; two pages of stack
	Strings  = 0x10000000
	Unmapped = Strings + 0x2000 // a page no process maps

	// Every process but System has two UNICODE_STRINGs there: one whose
	// text crosses from the first string page to the second (which is not
	// next to it in physical memory), one whose text is in Unmapped.
	CrossingString = Strings + 0xe00
	UnmappedString = Strings + 0xe10
	crossingBuf    = Strings + 0x1000 - 0x20
	Wow64Peb       = 0x7efde000
	exitOff        = 0x200 // KiSystemCall64's call r10 is this far in
	handlers       = 0x10000
	w32Table       = 0x20000 // W32pServiceTable, in the pool
	NtCount        = 401
	W32kCount      = 827

	// Structure offsets common to every 7601 build.
	kpcrSelf, kpcrPrcb, kpcrIdt, kpcrThread = 0x18, 0x20, 0x38, 0x188
	ktApcProcess, ktTeb, ktProcess          = 0x70, 0xb8, 0x210
	epDTB, epCreate, epPID, epLinks         = 0x28, 0x168, 0x180, 0x188
	epPPID, epName, epThreads, epWow64      = 0x290, 0x2e0, 0x308, 0x320
	epAudit, epExit                         = 0x390, 0x444
	epSize, etSize                          = 0x4d0, 0x500
)

// CrossingText is what CrossingString says.
const CrossingText = `\Device\HarddiskVolume2\Users\crossing.txt`

// SystemCall64Prologue is the first code of KiSystemCall64: swapgs; mov
// gs:[0x10],rsp; mov rsp,gs:[0x1a8].
var SystemCall64Prologue = []byte{0x0F, 0x01, 0xF8, 0x65, 0x48, 0x89, 0x24, 0x25, 0x10, 0x00, 0x00, 0x00, 0x65, 0x48, 0x8B, 0x24, 0x25, 0xA8, 0x01, 0x00, 0x00}

// Proc is a process of the synthetic guest.
type Proc struct {
	PID, PPID int
	Name      string // as the guest stores ImageFileName (cut to 15 bytes)
	Path      string // the full image path; "" for System, which has none
	Wow64     bool
	Exited    bool // exited, still listed (a handle keeps it), with no thread
	EPROCESS  uint64
	DTB       uint64
	Threads   []*Thread
	userNext  uint64 // next free user page, physical
}

// Thread is a thread of a synthetic process.
type Thread struct {
	TID     int
	ETHREAD uint64
	Proc    *Proc
}

// Guest is a synthetic Windows 7 SP1 x64 guest-physical image.
type Guest struct {
	Build Build
	Phys  *vmitest.Phys
	Mem   *vmi.Memory
	KPCR  uint64
	Procs []*Proc
	// Current is the thread running on vCPU 0 (KPRCB.CurrentThread).
	Current *Thread

	tables   *vmitest.Tables
	poolNext uint64
}

// The processes of every synthetic guest: a dozen, one WOW64, one exited,
// one whose name fills ImageFileName without a NUL. dir is where the
// image lies: its full path is dir + name, none for System.
var procs = []struct {
	pid, ppid     int
	name, dir     string
	wow64, exited bool
	threads       int
}{
	{4, 0, "System", "", false, false, 2},
	{252, 4, "smss.exe", system32, false, false, 1},
	{332, 324, "csrss.exe", system32, false, false, 2},
	{380, 324, "wininit.exe", system32, false, false, 1},
	{476, 380, "services.exe", system32, false, false, 1},
	{492, 380, "lsass.exe", system32, false, false, 1},
	{600, 476, "svchost.exe", system32, false, false, 2},
	{1208, 1180, "explorer.exe", crossingImageDir, false, false, 2},
	{1320, 1208, "cmd.exe", system32, false, false, 1},
	{1400, 1208, "notepad.exe", system32, false, false, 1},
	{1512, 1320, "setup32.exe", `\Device\HarddiskVolume2\Program Files (x86)\Setup\`, true, false, 1},
	{1640, 1208, "oldtool.exe", `\Device\HarddiskVolume2\Tools\`, false, true, 0},
	{1720, 1320, "averyveryverylongname.exe", `\Device\HarddiskVolume2\Users\victim\`, false, false, 1},
}

const system32 = `\Device\HarddiskVolume2\Windows\System32\`

// crossingImageDir is the folder of the one image whose path's text
// crosses a page boundary of the pool.
const crossingImageDir = `\Device\HarddiskVolume2\Windows\`

// New builds the synthetic guest of build b, with vCPU 0 running cmd.exe's
// thread.
func New(b Build) *Guest {
	g := &Guest{Build: b, Phys: vmitest.NewPhys(MemSize), poolNext: poolBase + 0x30000}
	g.Mem = vmi.NewMemory(g.Phys)
	g.tables = vmitest.NewTables(g.Phys, false, KernelCR3, tablePhys)
	for off := uint64(0); off < imageSize; off += vmitest.Page4K {
		g.tables.Map(KernelBase+off, imagePhys+off, vmitest.Page4K)
	}
	for off := uint64(0); off < poolSize; off += vmitest.Page4K {
		g.tables.Map(poolBase+off, poolPhys+off, vmitest.Page4K)
	}
	g.KPCR = KernelBase + b.KiInitialPCR
	g.writeImage()
	g.writeServiceTables()
	g.writeProcesses()
	g.Run(g.Proc("cmd.exe").Threads[0])
	return g
}

// Kernel is the kernel's own address space (the System process's tables).
func (g *Guest) Kernel() vmi.Space { return g.Mem.Space(KernelCR3, 0) }

// User is p's address space.
func (g *Guest) User(p *Proc) vmi.Space { return g.Mem.Space(p.DTB, 0) }

// Proc returns the process named name; it panics for another name: the
// tests ask only for the ones built.
func (g *Guest) Proc(name string) *Proc {
	for _, p := range g.Procs {
		if p.Name == name {
			return p
		}
	}
	panic("wintest: no process " + name)
}

// Run makes t the thread running on vCPU 0.
func (g *Guest) Run(t *Thread) {
	g.Current = t
	g.put64(g.Kernel(), g.KPCR+kpcrThread, t.ETHREAD)
}

// Handler is the address of the nt service with index i.
func (g *Guest) Handler(i int) uint64 { return KernelBase + handlers + uint64(i)*0x10 }

// Entry and Exit are KiSystemCall64 and the instruction after its call of
// the service.
func (g *Guest) Entry() uint64 { return KernelBase + g.Build.KiSystemCall64 }
func (g *Guest) Exit() uint64  { return g.Entry() + exitOff + 3 }

func (g *Guest) put(s vmi.Space, va uint64, b []byte) {
	if err := s.Write(b, va); err != nil {
		panic(fmt.Sprintf("wintest: writing %#x: %v", va, err))
	}
}

func (g *Guest) put64(s vmi.Space, va, v uint64) {
	g.put(s, va, binary.LittleEndian.AppendUint64(nil, v))
}

func (g *Guest) put32(s vmi.Space, va uint64, v uint32) {
	g.put(s, va, binary.LittleEndian.AppendUint32(nil, v))
}

// Put writes b at va in s: the tests' way to place their own data.
func (g *Guest) Put(s vmi.Space, va uint64, b []byte) { g.put(s, va, b) }

// alloc takes n bytes of pool, 16-byte aligned.
func (g *Guest) alloc(n uint64) uint64 {
	a := g.poolNext
	g.poolNext += (n + 15) &^ 15
	if g.poolNext > poolBase+poolSize {
		panic("wintest: pool exhausted")
	}
	return a
}

// writeImage writes ntoskrnl's headers, the code the back end looks at,
// the KPCR and the IDT.
func (g *Guest) writeImage() {
	k, b := g.Kernel(), g.Build
	g.put(k, KernelBase, PEHeader(b.GUID, b.Age, imageSize))
	code := append([]byte(nil), SystemCall64Prologue...)
	code = append(code, make([]byte, exitOff-len(code))...)
	// call r10, then a nop where the service returns. The real kernel has
	// an inc there, which the gdbstub listener single-steps; a nop it
	// emulates, and the session tests' Close does not race a real step
	// (the listener then removes the stepped breakpoint twice: E22).
	code = append(code, 0x41, 0xFF, 0xD2, 0x90)
	g.put(k, g.Entry(), code)
	g.put(k, KernelBase+b.KiDivideErrorFault, []byte{0x48, 0x83, 0xec, 0x08}) // sub rsp,8
	g.put32(k, KernelBase+b.NtBuildNumber, 0xf0001db1)                        // 7601, a free build
	// KPCR: Self, CurrentPrcb, IdtBase.
	idt := g.alloc(256 * 16)
	g.put64(k, g.KPCR+kpcrSelf, g.KPCR)
	g.put64(k, g.KPCR+kpcrPrcb, g.KPCR+0x180)
	g.put64(k, g.KPCR+kpcrIdt, idt)
	for v := range 256 {
		g.put(k, idt+uint64(v)*16, IDTGate(KernelBase+b.KiDivideErrorFault+uint64(v)*0x40))
	}
}

// IDTGate is a 64-bit interrupt gate to handler.
func IDTGate(handler uint64) []byte {
	e := make([]byte, 16)
	binary.LittleEndian.PutUint16(e[0:], uint16(handler))
	binary.LittleEndian.PutUint16(e[2:], 0x10)
	e[5] = 0x8e
	binary.LittleEndian.PutUint16(e[6:], uint16(handler>>16))
	binary.LittleEndian.PutUint32(e[8:], uint32(handler>>32))
	return e
}

// Where PEHeader puts the directories, relative to the image.
const (
	exportRVA = 0x1000
	debugRVA  = 0x1100
	rsdsRVA   = 0x1200
)

// PEHeader is the first page of an ntoskrnl image: the DOS and PE headers,
// one section, an export directory naming ntoskrnl.exe and a debug
// directory whose CodeView record names the PDB by guid and age.
func PEHeader(guid [16]byte, age uint32, size uint32) []byte {
	h := make([]byte, 0x2000)
	le := binary.LittleEndian
	copy(h, "MZ")
	le.PutUint32(h[0x3c:], 0x100)
	pe := h[0x100:]
	copy(pe, "PE\x00\x00")
	le.PutUint16(pe[4:], 0x8664) // Machine
	le.PutUint16(pe[6:], 1)      // NumberOfSections
	le.PutUint16(pe[20:], 0xf0)  // SizeOfOptionalHeader
	le.PutUint16(pe[22:], 0x22)  // executable, large address aware
	opt := pe[24:]
	le.PutUint16(opt[0:], 0x20b)   // PE32+
	le.PutUint32(opt[32:], 0x1000) // SectionAlignment
	le.PutUint32(opt[36:], 0x200)  // FileAlignment
	le.PutUint32(opt[56:], size)   // SizeOfImage
	le.PutUint32(opt[60:], 0x1000) // SizeOfHeaders
	le.PutUint16(opt[68:], 1)      // Subsystem: native
	le.PutUint32(opt[108:], 16)    // NumberOfRvaAndSizes
	dirs := opt[112:]
	le.PutUint32(dirs[0:], exportRVA) // export
	le.PutUint32(dirs[4:], 0x100)
	le.PutUint32(dirs[6*8:], debugRVA) // debug
	le.PutUint32(dirs[6*8+4:], 28)
	sec := opt[0xf0:]
	copy(sec, ".text")
	le.PutUint32(sec[8:], size-0x1000) // VirtualSize
	le.PutUint32(sec[12:], 0x1000)     // VirtualAddress
	le.PutUint32(sec[36:], 0x60000020) // code, execute, read
	exp := h[exportRVA:]
	le.PutUint32(exp[12:], exportRVA+0x80) // Name
	copy(exp[0x80:], "ntoskrnl.exe\x00")
	dbg := h[debugRVA:]
	le.PutUint32(dbg[12:], 2) // IMAGE_DEBUG_TYPE_CODEVIEW
	le.PutUint32(dbg[16:], 24+13)
	le.PutUint32(dbg[20:], rsdsRVA)
	rsds := h[rsdsRVA:]
	copy(rsds, "RSDS")
	copy(rsds[4:], guid[:])
	le.PutUint32(rsds[20:], age)
	copy(rsds[24:], "ntkrnlmp.pdb\x00")
	return h
}

// writeServiceTables writes KiServiceTable (401 entries, each the handler's
// offset from the table << 4 | the stack-argument count), the win32k
// table, and both descriptor tables.
func (g *Guest) writeServiceTables() {
	k, b := g.Kernel(), g.Build
	table := KernelBase + b.KiServiceTable
	for i := range NtCount {
		g.put32(k, table+uint64(i)*4, uint32(int32(g.Handler(i)-table)<<4|int32(stackArgs(ntsvc.NT[i].Args))))
		g.put(k, g.Handler(i), handlerPrologue)
	}
	w32 := uint64(poolBase + w32Table)
	for i := range W32kCount {
		g.put32(k, w32+uint64(i)*4, uint32(int32(0x100+i*0x10)<<4|int32(i%5)))
	}
	desc := func(at, table, limit uint64) {
		g.put64(k, at, table)
		g.put64(k, at+16, limit)
	}
	desc(KernelBase+b.KeServiceDescriptorTable, table, NtCount)
	desc(KernelBase+b.KeServiceDescriptorShdw, table, NtCount)
	desc(KernelBase+b.KeServiceDescriptorShdw+0x20, w32, W32kCount)
}

func stackArgs(n int) int { return max(0, n-4) }

// handlerPrologue starts every service: mov [rsp+8], rbx, as many
// Windows functions do (the gdbstub listener emulates it).
var handlerPrologue = []byte{0x48, 0x89, 0x5c, 0x24, 0x08}

// writeProcesses writes the EPROCESS list, each process's threads, page
// tables, TEBs and stacks.
func (g *Guest) writeProcesses() {
	k, b := g.Kernel(), g.Build
	head := KernelBase + b.PsActiveProcessHead
	prev := head
	for i, d := range procs {
		p := &Proc{PID: d.pid, PPID: d.ppid, Name: d.name, Wow64: d.wow64, Exited: d.exited}
		if len(p.Name) > 15 {
			p.Name = p.Name[:15]
		}
		p.EPROCESS = g.alloc(epSize)
		p.DTB = KernelCR3
		if d.pid != 4 {
			p.DTB = g.userTables(i)
		}
		p.userNext = userPhys + uint64(i)*userPages*vmitest.Page4K + 4*vmitest.Page4K
		e := p.EPROCESS
		g.put(k, e, []byte{0x03, 0x00, 0x58, 0x00})
		g.put64(k, e+epDTB, p.DTB)
		g.put64(k, e+epCreate, 0x01d0_0000_0000_0000+uint64(i))
		g.put64(k, e+epPID, uint64(p.PID))
		g.put64(k, e+epPPID, uint64(p.PPID))
		g.put(k, e+epName, []byte(p.Name))
		status := uint32(0x103) // STATUS_PENDING: still running
		if p.Exited {
			status = 0
		}
		g.put32(k, e+epExit, status)
		if p.Wow64 {
			g.put64(k, e+epWow64, Wow64Peb)
		}
		if d.dir != "" {
			p.Path = d.dir + d.name
			g.put64(k, e+epAudit, g.objectName(p.Path, d.dir == crossingImageDir))
		}
		// ActiveProcessLinks
		g.put64(k, prev, e+epLinks)
		g.put64(k, e+epLinks+8, prev)
		prev = e + epLinks
		// Threads
		tprev := e + epThreads
		for j := range d.threads {
			t := &Thread{TID: d.pid + 4*(j+1), ETHREAD: g.alloc(etSize), Proc: p}
			p.Threads = append(p.Threads, t)
			g.put64(k, t.ETHREAD+ktApcProcess, e)
			g.put64(k, t.ETHREAD+ktProcess, e)
			g.put64(k, t.ETHREAD+ktTeb, TEB)
			g.put64(k, t.ETHREAD+b.Cid, uint64(p.PID))
			g.put64(k, t.ETHREAD+b.Cid+8, uint64(t.TID))
			links := t.ETHREAD + b.ThreadListEntry
			g.put64(k, tprev, links)
			g.put64(k, links+8, tprev)
			tprev = links
		}
		g.put64(k, tprev, e+epThreads)
		g.put64(k, e+epThreads+8, tprev)
		if d.pid != 4 && len(p.Threads) > 0 {
			u := g.User(p)
			g.put64(u, TEB+0x40, uint64(p.PID))
			g.put64(u, TEB+0x48, uint64(p.Threads[0].TID))
			g.put(u, CrossingString, UnicodeString(crossingBuf, CrossingText))
			g.put(u, crossingBuf, UTF16(CrossingText))
			g.put(u, UnmappedString, UnicodeString(Unmapped+0x10, "sixteen chars..."))
		}
		g.Procs = append(g.Procs, p)
	}
	g.put64(k, prev, head)
	g.put64(k, head+8, prev)
	g.put64(k, KernelBase+b.PsInitialSystemProcess, g.Procs[0].EPROCESS)
}

// objectName puts an OBJECT_NAME_INFORMATION naming path in the pool
// (its UNICODE_STRING, then the text) and returns its address; across
// puts the text across a page boundary.
func (g *Guest) objectName(path string, across bool) uint64 {
	if across {
		g.poolNext = (g.poolNext+0x20+0xfff)&^0xfff - 0x20 // the text starts 16 bytes before the boundary
	}
	name := g.alloc(16 + 2*uint64(len(path)))
	g.put(g.Kernel(), name, UnicodeString(name+16, path))
	g.put(g.Kernel(), name+16, UTF16(path))
	return name
}

// userTables makes process i's page tables: the kernel half shared with
// the System process's, a TEB, two stack pages, and two string pages that
// are neighbours in virtual memory only, then an unmapped page.
func (g *Guest) userTables(i int) uint64 {
	base := userPhys + uint64(i)*userPages*vmitest.Page4K
	// Tables of process i come from its own area past the kernel's.
	root := tablePhys + 0x80000 + uint64(i)*0x8000
	t := vmitest.NewTables(g.Phys, false, root, root+vmitest.Page4K)
	for slot := uint64(256); slot < 512; slot++ {
		t.SetEntry(root+slot*8, g.tables.Entry(KernelCR3+slot*8))
	}
	t.Map(TEB, base, vmitest.Page4K)
	t.Map(StackTop-0x2000, base+vmitest.Page4K, vmitest.Page4K)
	t.Map(StackTop-0x1000, base+2*vmitest.Page4K, vmitest.Page4K)
	t.Map(Strings+0x1000, base+3*vmitest.Page4K, vmitest.Page4K) // before the first: not contiguous
	t.Map(Strings, base+5*vmitest.Page4K, vmitest.Page4K)
	return root
}

// UTF16 is s in UTF-16LE, without a terminator.
func UTF16(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

// UnicodeString is a UNICODE_STRING describing s at buf.
func UnicodeString(buf uint64, s string) []byte {
	n := 2 * len(utf16.Encode([]rune(s)))
	b := make([]byte, 16)
	binary.LittleEndian.PutUint16(b[0:], uint16(n))
	binary.LittleEndian.PutUint16(b[2:], uint16(n))
	binary.LittleEndian.PutUint64(b[8:], buf)
	return b
}

// ObjectAttributes is an OBJECT_ATTRIBUTES with its name at name.
func ObjectAttributes(root, name uint64, attrs uint32) []byte {
	b := make([]byte, 0x30)
	binary.LittleEndian.PutUint32(b[0:], 0x30)
	binary.LittleEndian.PutUint64(b[8:], root)
	binary.LittleEndian.PutUint64(b[0x10:], name)
	binary.LittleEndian.PutUint32(b[0x18:], attrs)
	return b
}

// ShadowEntry is where Shadow puts KiSystemCall64Shadow, relative to the
// kernel base.
const ShadowEntry = 0x2c0000

// Shadow gives p page tables as a KVA-shadow kernel's user mode has them:
// p's user pages, the KPCR (whose KPRCB's KernelDirectoryTableBase, at
// +0x180+0x5e80, holds the kernel's tables), the IDT and the
// KiSystemCall64Shadow page, and nothing else of the kernel. It returns
// their root; p's DTB stays the full one.
func (g *Guest) Shadow(p *Proc) uint64 {
	const root = tablePhys + 0xf0000
	t := vmitest.NewTables(g.Phys, false, root, root+vmitest.Page4K)
	full := g.User(p)
	for _, va := range []uint64{TEB, StackTop - 0x2000, StackTop - 0x1000, Strings, Strings + 0x1000} {
		pa, err := full.Translate(va)
		if err != nil {
			panic(err)
		}
		t.Map(va, pa, vmitest.Page4K)
	}
	idt, _ := g.Kernel().U64(g.KPCR + kpcrIdt)
	k := g.Kernel()
	g.put64(k, g.KPCR+0x180+0x5e80, KernelCR3)
	g.put(k, KernelBase+ShadowEntry, SystemCall64Prologue)
	for _, va := range []uint64{g.KPCR, g.KPCR + 0x1000, g.KPCR + 0x6000, idt, KernelBase + ShadowEntry} {
		page := va &^ 0xfff
		pa, err := k.Translate(page)
		if err != nil {
			panic(err)
		}
		t.Map(page, pa, vmitest.Page4K)
	}
	return root
}
