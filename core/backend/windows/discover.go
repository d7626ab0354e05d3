package windows

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"nitro/core/vmi"
)

var (
	// ErrNoKPCR means neither GS base holds a Windows x64 KPCR.
	ErrNoKPCR = errors.New("no KPCR at the GS bases")
	// ErrNoKernel means no ntoskrnl image lies below IDT vector 0's handler.
	ErrNoKernel = errors.New("ntoskrnl's image not found")
	// ErrBadPE means the image's headers cannot be read as ntoskrnl's.
	ErrBadPE = errors.New("bad PE image")
	// ErrUnknownBuild means the kernel's PDB GUID has no built-in layout.
	ErrUnknownBuild = errors.New("unknown ntoskrnl build")
	// ErrSymbol means a kernel symbol the back end needs is missing.
	ErrSymbol = errors.New("kernel symbol not found")
	// ErrLayout means a structure offset the back end needs is missing.
	ErrLayout = errors.New("structure offsets missing")
)

// KPCR fields the same in every x64 Windows from Vista on: they are read
// before the build is known.
const (
	kpcrSelf        = 0x18
	kpcrCurrentPrcb = 0x20
	kpcrIdtBase     = 0x38
	kpcrPrcb        = 0x180
)

// kernelAddr says whether a is in the upper, kernel half.
func kernelAddr(a uint64) bool { return a >= 0xffff800000000000 }

// findKPCR returns the KPCR among the GS bases: the one that is a kernel
// address whose Self points at itself and whose CurrentPrcb points at its
// embedded KPRCB. Before swapgs (at KiSystemCall64's first instruction) it
// is KERNEL_GS_BASE, after it GS_BASE.
func findKPCR(k vmi.Space, bases ...uint64) (uint64, error) {
	for _, b := range bases {
		if !kernelAddr(b) {
			continue
		}
		self, err1 := k.U64(b + kpcrSelf)
		prcb, err2 := k.U64(b + kpcrCurrentPrcb)
		if err1 == nil && err2 == nil && self == b && prcb == b+kpcrPrcb {
			return b, nil
		}
	}
	return 0, fmt.Errorf("%w (%#x)", ErrNoKPCR, bases)
}

// maxKernelWalk bounds the walk down from the IDT handler to the image's
// start: ntoskrnl and hal together are a few MiB.
const maxKernelWalk = 32 << 20

// findKernelBase walks down page by page from IDT vector 0's handler
// (KiDivideErrorFault, inside ntoskrnl) to an MZ image whose export
// directory names ntoskrnl.exe.
func findKernelBase(k vmi.Space, idt uint64) (uint64, error) {
	var gate [16]byte
	if err := k.Read(gate[:], idt); err != nil {
		return 0, fmt.Errorf("reading the IDT at %#x: %w", idt, err)
	}
	h := uint64(binary.LittleEndian.Uint16(gate[0:])) | uint64(binary.LittleEndian.Uint16(gate[6:]))<<16 |
		uint64(binary.LittleEndian.Uint32(gate[8:]))<<32
	if !kernelAddr(h) {
		return 0, fmt.Errorf("%w: IDT vector 0 points at %#x", ErrNoKernel, h)
	}
	var mz [2]byte
	for page := h &^ 0xfff; page+maxKernelWalk > h && kernelAddr(page); page -= 0x1000 {
		if k.Read(mz[:], page) != nil || mz != [2]byte{'M', 'Z'} {
			continue
		}
		if name, err := exportName(k, page); err == nil && strings.EqualFold(name, "ntoskrnl.exe") {
			return page, nil
		}
	}
	return 0, fmt.Errorf("%w below %#x (IDT vector 0)", ErrNoKernel, h)
}

// headerSize is what is read of an image's headers: they fit in its first
// page in every ntoskrnl.
const headerSize = 0x1000

// peInfo is what the back end reads of ntoskrnl's headers.
type peInfo struct {
	exportRVA, debugRVA, debugSize uint32
	sizeOfImage                    uint32
}

// parseHeaders reads the headers of an image at its first page.
func parseHeaders(hdr []byte) (peInfo, error) {
	f, err := pe.NewFile(bytes.NewReader(hdr))
	if err != nil {
		return peInfo{}, fmt.Errorf("%w: %w", ErrBadPE, err)
	}
	opt, ok := f.OptionalHeader.(*pe.OptionalHeader64)
	if !ok || f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 {
		return peInfo{}, fmt.Errorf("%w: not an x86-64 image", ErrBadPE)
	}
	var info peInfo
	info.sizeOfImage = opt.SizeOfImage
	if opt.NumberOfRvaAndSizes > pe.IMAGE_DIRECTORY_ENTRY_EXPORT && len(opt.DataDirectory) > pe.IMAGE_DIRECTORY_ENTRY_DEBUG {
		info.exportRVA = opt.DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_EXPORT].VirtualAddress
		info.debugRVA = opt.DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_DEBUG].VirtualAddress
		info.debugSize = opt.DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_DEBUG].Size
	}
	return info, nil
}

func readHeaders(k vmi.Space, base uint64) (peInfo, error) {
	hdr := make([]byte, headerSize)
	if err := k.Read(hdr, base); err != nil {
		return peInfo{}, fmt.Errorf("reading the image headers at %#x: %w", base, err)
	}
	return parseHeaders(hdr)
}

// exportName is the DLL name an image's export directory gives.
func exportName(k vmi.Space, base uint64) (string, error) {
	info, err := readHeaders(k, base)
	if err != nil {
		return "", err
	}
	if info.exportRVA == 0 || info.exportRVA >= info.sizeOfImage {
		return "", fmt.Errorf("%w: no export directory", ErrBadPE)
	}
	nameRVA, err := k.U32(base + uint64(info.exportRVA) + 12)
	if err != nil {
		return "", err
	}
	if nameRVA >= info.sizeOfImage {
		return "", fmt.Errorf("%w: export name outside the image", ErrBadPE)
	}
	return k.CString(base+uint64(nameRVA), 64)
}

// PDB names a kernel build as its debug record does.
type PDB struct {
	GUID string // 32 upper-case hex digits, as symbol servers name it
	Age  uint32
	Name string // e.g. ntkrnlmp.pdb
}

func (p PDB) String() string { return fmt.Sprintf("%s GUID %s age %d", p.Name, p.GUID, p.Age) }

// Debug directory entries (IMAGE_DEBUG_DIRECTORY).
const (
	debugEntrySize  = 28
	debugCodeView   = 2
	maxDebugEntries = 16
	rsdsSize        = 24 // "RSDS", GUID, age; the PDB's name follows
)

// readPDB reads the CodeView record of the image at base.
func readPDB(k vmi.Space, base uint64) (PDB, error) {
	info, err := readHeaders(k, base)
	if err != nil {
		return PDB{}, err
	}
	n := min(int(info.debugSize/debugEntrySize), maxDebugEntries)
	if info.debugRVA == 0 || n == 0 || info.debugRVA >= info.sizeOfImage {
		return PDB{}, fmt.Errorf("%w: no debug directory", ErrBadPE)
	}
	dir := make([]byte, n*debugEntrySize)
	if err := k.Read(dir, base+uint64(info.debugRVA)); err != nil {
		return PDB{}, fmt.Errorf("reading the debug directory: %w", err)
	}
	for i := range n {
		e := dir[i*debugEntrySize:]
		if binary.LittleEndian.Uint32(e[12:]) != debugCodeView {
			continue
		}
		rva := binary.LittleEndian.Uint32(e[20:])
		if rva == 0 || rva >= info.sizeOfImage {
			continue
		}
		var rec [rsdsSize]byte
		if err := k.Read(rec[:], base+uint64(rva)); err != nil {
			return PDB{}, fmt.Errorf("reading the CodeView record: %w", err)
		}
		p, err := parseRSDS(rec[:])
		if err != nil {
			return PDB{}, err
		}
		p.Name, _ = k.CString(base+uint64(rva)+rsdsSize, 260)
		return p, nil
	}
	return PDB{}, fmt.Errorf("%w: no CodeView debug record", ErrBadPE)
}

// parseRSDS reads the GUID and age of a CodeView RSDS record.
func parseRSDS(rec []byte) (PDB, error) {
	if len(rec) < rsdsSize || string(rec[:4]) != "RSDS" {
		return PDB{}, fmt.Errorf("%w: the CodeView record is not RSDS", ErrBadPE)
	}
	le := binary.LittleEndian
	g := rec[4:20]
	return PDB{
		GUID: fmt.Sprintf("%08X%04X%04X%X", le.Uint32(g), le.Uint16(g[4:]), le.Uint16(g[6:]), g[8:16]),
		Age:  le.Uint32(rec[20:]),
	}, nil
}
