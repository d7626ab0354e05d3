package windows

import "fmt"

// Layout is what the back end needs to know of one ntoskrnl build: its
// structure offsets and the offsets of its symbols from the kernel base.
type Layout struct {
	Build string // e.g. "7601.17514", for messages
	GUID  string // the PDB GUID, 32 hex digits

	// _KPCR, _KPRCB
	PrcbCurrThread uint64 // from the KPCR: Prcb + CurrentThread
	KThreadApcProc uint64 // ApcState.Process
	KThreadProcess uint64
	KProcessDTB    uint64
	EProcPID       uint64
	EProcLinks     uint64
	EProcPPID      uint64
	EProcName      uint64
	EProcThreads   uint64
	EProcWow64     uint64
	EProcExit      uint64
	EProcAudit     uint64 // SeAuditProcessCreationInfo, the image path; 0 when unknown
	EThreadCid     uint64
	EThreadList    uint64

	// Symbols, relative to the kernel base.
	Symbols map[string]uint64
}

// Symbols the back end cannot do without.
var neededSymbols = []string{
	"KiSystemCall64", "KiServiceTable", "KeServiceDescriptorTableShadow",
	"PsActiveProcessHead", "PsInitialSystemProcess",
}

// win7Base is the layout every 7601 build shares; the builds differ in
// where ETHREAD's Cid and thread links lie and in their symbols.
func win7Base() Layout {
	return Layout{
		PrcbCurrThread: 0x188,
		KThreadApcProc: 0x70, KThreadProcess: 0x210,
		KProcessDTB: 0x28,
		EProcPID:    0x180, EProcLinks: 0x188, EProcPPID: 0x290, EProcName: 0x2e0,
		EProcThreads: 0x308, EProcWow64: 0x320, EProcAudit: 0x390, EProcExit: 0x444,
	}
}

// builtin are the layouts of the builds the facts file gives, by GUID.
var builtin = func() map[string]Layout {
	rtm := win7Base()
	rtm.Build, rtm.GUID = "7601.17514", "3844DBB920174967BE7AA4A2C20430FA"
	rtm.EThreadCid, rtm.EThreadList = 0x3b0, 0x420
	rtm.Symbols = map[string]uint64{
		"KiInitialPCR": 0x1f2d00, "KdDebuggerDataBlock": 0x1f10a0,
		"KiSystemCall64": 0x7f640, "KiSystemCall32": 0x7f380, "KiServiceTable": 0x81300,
		"KeServiceDescriptorTable": 0x2b1840, "KeServiceDescriptorTableShadow": 0x2b1880,
		"PsActiveProcessHead": 0x227b90, "PsInitialSystemProcess": 0x2b1030,
		"PsLoadedModuleList": 0x245e90, "NtBuildNumber": 0x1b6770, "KiDivideErrorFault": 0x7d3c0,
	}
	later := win7Base()
	later.Build, later.GUID = "7601 (later update)", "2E37F962D699492CAAF3F9F4E9770B1D"
	later.EThreadCid, later.EThreadList = 0x3b8, 0x428
	later.Symbols = map[string]uint64{
		"KiInitialPCR": 0x1f1d00, "KdDebuggerDataBlock": 0x1f00a0,
		"KiSystemCall64": 0x73ec0, "KiSystemCall32": 0x73c00, "KiServiceTable": 0x75b00,
		"KeServiceDescriptorTable": 0x2ae940, "KeServiceDescriptorTableShadow": 0x2ae980,
		"PsActiveProcessHead": 0x226590, "PsInitialSystemProcess": 0x2ae030,
		"PsLoadedModuleList": 0x244890, "NtBuildNumber": 0x1b5a90, "KiDivideErrorFault": 0x71c40,
	}
	return map[string]Layout{rtm.GUID: rtm, later.GUID: later}
}()

// KnownBuilds lists the builds with a built-in layout, for messages.
func KnownBuilds() []string {
	var out []string
	for _, l := range builtin {
		out = append(out, l.Build+" ("+l.GUID+")")
	}
	return out
}

// check says what a layout lacks.
func (l *Layout) check() error {
	for _, s := range neededSymbols {
		if _, ok := l.Symbols[s]; !ok {
			return fmt.Errorf("%w: %s", ErrSymbol, s)
		}
	}
	if l.EProcLinks == 0 || l.EProcPID == 0 || l.EThreadCid == 0 || l.KThreadApcProc == 0 {
		return fmt.Errorf("%w: the process and thread offsets", ErrLayout)
	}
	return nil
}
