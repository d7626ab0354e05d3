package windows

import (
	"encoding/binary"
	"strconv"
	"strings"
	"unicode/utf16"

	"nitro/core/backend"
	"nitro/core/backend/windows/ntsvc"
	"nitro/core/vmi"
	"nitro/internal/escape"
)

// kind is how an argument is shown.
type kind uint8

const (
	kHex         kind = iota // a value or pointer nitro does not follow
	kHandle                  // HANDLE
	kPHandle                 // PHANDLE: written by the call
	kAccess                  // ACCESS_MASK
	kOA                      // POBJECT_ATTRIBUTES
	kUStr                    // PUNICODE_STRING
	kIOSB                    // PIO_STATUS_BLOCK: written by the call
	kFileAttr                // file attributes
	kShare                   // share access
	kDisposition             // create disposition
	kCreateOpts              // create/open options
	kProtect                 // page protection
	kAllocType               // MEM_ allocation type
	kPPtr                    // PVOID*: in and out, shown as [address]
	kPSize                   // PSIZE_T: in and out, shown as [size]
	kClientID                // PCLIENT_ID
	kDec                     // a count or class, in decimal
	kIoctl                   // an ioctl or fsctl code
	kBool                    // BOOLEAN
	kStatus                  // NTSTATUS (NtTerminateProcess's exit status)
	kParams                  // PRTL_USER_PROCESS_PARAMETERS: image and command line
	kBuf                     // bytes the call reads, as many as the next argument says
	kRegType                 // a registry value's type
	kSysClass                // SYSTEM_INFORMATION_CLASS
	kFileClass               // FILE_INFORMATION_CLASS
)

// signatures are the argument kinds of the calls a triager reads first;
// other calls show their arguments in hex.
var signatures = map[string][]kind{
	"NtCreateFile":             {kPHandle, kAccess, kOA, kIOSB, kHex, kFileAttr, kShare, kDisposition, kCreateOpts, kHex, kDec},
	"NtOpenFile":               {kPHandle, kAccess, kOA, kIOSB, kShare, kCreateOpts},
	"NtReadFile":               {kHandle, kHandle, kHex, kHex, kIOSB, kHex, kDec, kHex, kHex},
	"NtWriteFile":              {kHandle, kHandle, kHex, kHex, kIOSB, kBuf, kDec, kHex, kHex},
	"NtClose":                  {kHandle},
	"NtDeviceIoControlFile":    {kHandle, kHandle, kHex, kHex, kIOSB, kIoctl, kBuf, kDec, kHex, kDec},
	"NtQueryAttributesFile":    {kOA, kHex},
	"NtDeleteFile":             {kOA},
	"NtSetInformationFile":     {kHandle, kIOSB, kBuf, kDec, kFileClass},
	"NtQueryDirectoryFile":     {kHandle, kHandle, kHex, kHex, kIOSB, kHex, kDec, kFileClass, kBool, kUStr, kBool},
	"NtOpenKey":                {kPHandle, kAccess, kOA},
	"NtOpenKeyEx":              {kPHandle, kAccess, kOA, kHex},
	"NtCreateKey":              {kPHandle, kAccess, kOA, kDec, kUStr, kHex, kHex},
	"NtQueryValueKey":          {kHandle, kUStr, kDec, kHex, kDec, kHex},
	"NtSetValueKey":            {kHandle, kUStr, kDec, kRegType, kBuf, kDec},
	"NtDeleteKey":              {kHandle},
	"NtCreateUserProcess":      {kPHandle, kPHandle, kAccess, kAccess, kOA, kOA, kHex, kHex, kParams, kHex, kHex},
	"NtCreateProcessEx":        {kPHandle, kAccess, kOA, kHandle, kHex, kHandle, kHandle, kHandle, kBool},
	"NtOpenProcess":            {kPHandle, kAccess, kOA, kClientID},
	"NtTerminateProcess":       {kHandle, kStatus},
	"NtCreateThreadEx":         {kPHandle, kAccess, kOA, kHandle, kHex, kHex, kHex, kDec, kDec, kDec, kHex},
	"NtAllocateVirtualMemory":  {kHandle, kPPtr, kHex, kPSize, kAllocType, kProtect},
	"NtProtectVirtualMemory":   {kHandle, kPPtr, kPSize, kProtect, kHex},
	"NtWriteVirtualMemory":     {kHandle, kHex, kBuf, kDec, kHex},
	"NtReadVirtualMemory":      {kHandle, kHex, kHex, kDec, kHex},
	"NtCreateSection":          {kPHandle, kAccess, kOA, kHex, kProtect, kHex, kHandle},
	"NtMapViewOfSection":       {kHandle, kHandle, kPPtr, kHex, kDec, kHex, kPSize, kDec, kHex, kProtect},
	"NtQuerySystemInformation": {kSysClass, kHex, kDec, kHex},
	"NtLoadDriver":             {kUStr},
	"NtCreateMutant":           {kPHandle, kAccess, kOA, kBool},
	"NtDuplicateObject":        {kHandle, kHandle, kHandle, kPHandle, kAccess, kHex, kHex},
	"NtDelayExecution":         {kBool, kHex},
	"NtWaitForSingleObject":    {kHandle, kBool, kHex},
}

// name and count of service nr; the win32k counts come from the guest's
// own table, whose entries end in the stack-argument count.
func (b *Backend) service(nr uint64, a *args) (string, int) {
	idx := nr & 0xfff
	switch (nr >> 12) & 3 {
	case ntsvc.TableNT:
		if nr < uint64(len(ntsvc.NT)) {
			return ntsvc.NT[idx].Name, ntsvc.NT[idx].Args
		}
	case ntsvc.TableWin32k:
		if nr&^0x1fff == 0 && idx < uint64(len(ntsvc.Win32k)) {
			return ntsvc.Win32k[idx].Name, b.win32kArgs(uint32(nr), a)
		}
	}
	return "syscall_" + strconv.FormatUint(nr, 10), 4
}

// win32kArgs reads a win32k service's argument count from the shadow
// table (the second descriptor of KeServiceDescriptorTableShadow), under
// the calling process's tables: win32k lives in session space, mapped in
// GUI processes only. Four when it cannot be read.
func (b *Backend) win32kArgs(nr uint32, a *args) int {
	if n, ok := b.w32Args[nr]; ok {
		return n
	}
	desc := b.base + b.layout.Symbols["KeServiceDescriptorTableShadow"] + 0x20
	table, err := a.user.U64(desc)
	if err != nil {
		return 4
	}
	e, err := a.user.U32(table + 4*uint64(nr&0xfff))
	if err != nil {
		return 4
	}
	n := 4 + int(e&0xf)
	b.w32Args[nr] = n
	return n
}

// decodeEnter names the call and renders its arguments.
func (b *Backend) decodeEnter(sc *backend.Syscall, a *args) {
	name, n := b.service(sc.Nr, a)
	sc.Name = name
	a.read(n)
	a.kinds = signatures[name]
	sc.Args = sc.Args[:0]
	for i := range a.n {
		sc.Args = append(sc.Args, backend.Arg{Raw: a.vals[i], Text: a.text(i), Out: a.out(i)})
	}
	sc.RetText = ""
}

// decodeExit renders the return value, and the arguments the call wrote.
func (b *Backend) decodeExit(sc *backend.Syscall, a *args) {
	if sc.Nr == noService {
		sc.Name = "?"
	} else {
		sc.Name, _ = b.service(sc.Nr, a)
		a.kinds = signatures[sc.Name]
		args := make([]backend.Arg, a.n)
		copy(args, sc.Args)
		for i := range a.n {
			// A call that failed wrote nothing: its out-parameters hold
			// what they held before.
			if a.out(i) && !Failed(uint32(a.result)) {
				args[i] = backend.Arg{Raw: a.vals[i], Text: a.text(i), Out: true}
			}
		}
		sc.Args = args
	}
	st := uint32(a.result)
	sc.Ret = int64(int32(st))
	sc.Errno = ""
	if Failed(st) {
		sc.Errno = StatusName(st)
		if sc.Errno == "" {
			sc.Errno = "0x" + strconv.FormatUint(uint64(st), 16)
		}
	}
	sc.RetText = StatusText(st)
}

// out says whether the call writes what argument i points to.
func (a *args) out(i int) bool {
	if i >= len(a.kinds) {
		return false
	}
	switch a.kinds[i] {
	case kPHandle, kIOSB, kPPtr, kPSize:
		return true
	}
	return false
}

// text renders argument i.
func (a *args) text(i int) string {
	v := a.vals[i]
	k := kHex
	if i < len(a.kinds) {
		k = a.kinds[i]
	}
	switch k {
	case kHandle:
		return handle(v)
	case kPHandle:
		if a.at == atExit && v != 0 {
			if h, err := a.user.U64(v); err == nil {
				return "[" + handle(h) + "]"
			}
		}
		return pointer(v)
	case kAccess:
		return string(appendFlags(nil, v&0xffffffff, accessFlags, "0"))
	case kOA:
		return a.objectAttributes(v)
	case kUStr:
		return a.unicode(v)
	case kFileAttr:
		return string(appendFlags(nil, v&0xffffffff, fileAttrs, "0"))
	case kShare:
		return string(appendFlags(nil, v&0xffffffff, shareFlags, "0"))
	case kDisposition:
		if int(v) < len(dispositions) {
			return dispositions[v]
		}
		return hex(v)
	case kCreateOpts:
		return string(appendFlags(nil, v&0xffffffff, createOptions, "0"))
	case kProtect:
		return string(appendFlags(nil, v&0xffffffff, protections, "0"))
	case kAllocType:
		return string(appendFlags(nil, v&0xffffffff, allocTypes, "0"))
	case kPPtr, kPSize:
		if v == 0 {
			return "NULL"
		}
		if x, err := a.user.U64(v); err == nil {
			if k == kPSize {
				return "[" + hex(x) + "]"
			}
			return "[" + pointer(x) + "]"
		}
		return hex(v)
	case kClientID:
		var cid [16]byte
		if v == 0 || a.user.Read(cid[:], v) != nil {
			return pointer(v)
		}
		return "{UniqueProcess=" + strconv.FormatUint(binary.LittleEndian.Uint64(cid[:]), 10) +
			", UniqueThread=" + strconv.FormatUint(binary.LittleEndian.Uint64(cid[8:]), 10) + "}"
	case kDec:
		return strconv.FormatUint(v&0xffffffff, 10)
	case kIoctl:
		return ioctl(uint32(v))
	case kBool:
		if uint8(v) == 0 {
			return "FALSE"
		}
		return "TRUE"
	case kStatus:
		return StatusText(uint32(v))
	case kBuf:
		return a.buffer(i)
	case kRegType:
		return lookupName(v, regTypes)
	case kSysClass:
		return lookupName(v, systemClasses)
	case kFileClass:
		return lookupName(v, fileClasses)
	case kParams:
		if v == 0 {
			return "NULL"
		}
		return "{ImagePathName=" + a.unicode(v+paramsImage) + ", CommandLine=" + a.unicode(v+paramsCommand) + "}"
	}
	return hex(v)
}

func hex(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }

func pointer(v uint64) string {
	if v == 0 {
		return "NULL"
	}
	return hex(v)
}

// handle shows the pseudo-handles by name.
func handle(v uint64) string {
	switch v {
	case 0:
		return "NULL"
	case ^uint64(0):
		return "NtCurrentProcess()"
	case ^uint64(1):
		return "NtCurrentThread()"
	}
	return hex(v)
}

// OBJECT_ATTRIBUTES (0x30 bytes) and UNICODE_STRING (0x10) fields.
const (
	oaRoot       = 0x8
	oaObjectName = 0x10
	oaAttributes = 0x18
	oaSize       = 0x30
)

// objectAttributes renders an OBJECT_ATTRIBUTES: its name, root directory
// and attributes.
func (a *args) objectAttributes(v uint64) string {
	var oa [oaSize]byte
	if v == 0 || a.user.Read(oa[:], v) != nil {
		return pointer(v)
	}
	le := binary.LittleEndian
	s := "{ObjectName=" + a.unicode(le.Uint64(oa[oaObjectName:]))
	if root := le.Uint64(oa[oaRoot:]); root != 0 {
		s += ", RootDirectory=" + handle(root)
	}
	if at := le.Uint32(oa[oaAttributes:]); at != 0 {
		s += ", Attributes=" + string(appendFlags(nil, uint64(at), objAttributes, "0"))
	}
	return s + "}"
}

// previewLen is how much of a buffer is shown, as strace shows 32 bytes
// of a string.
const previewLen = 32

// buffer previews the bytes argument i points to, as many as argument
// i+1 counts: quoted and escaped, "..." after when there are more. A
// registry value of a string type (NtSetValueKey's REG_SZ, REG_EXPAND_SZ)
// is UTF-16 and shown decoded.
func (a *args) buffer(i int) string {
	v := a.vals[i]
	if v == 0 || i+1 >= a.n {
		return pointer(v)
	}
	n := a.vals[i+1] & 0xffffffff
	wide := i == 4 && a.kinds[3] == kRegType && (a.vals[3] == regSZ || a.vals[3] == regExpandSZ)
	limit := uint64(previewLen)
	if wide {
		limit = 2*limit + 2 // and its NUL
	}
	raw := make([]byte, min(n, limit))
	if err := a.user.Read(raw, v); err != nil {
		return hex(v)
	}
	var s string
	if wide {
		s = strings.TrimRight(decodeUTF16(raw), "\x00")
	} else {
		s = string(raw)
	}
	s = `"` + escape.String(s) + `"`
	if n > uint64(len(raw)) {
		s += "..."
	}
	return s
}

// RTL_USER_PROCESS_PARAMETERS's UNICODE_STRINGs.
const (
	paramsImage   = 0x60
	paramsCommand = 0x70
)

// maxChars bounds the characters read of a UNICODE_STRING, whatever
// Length says.
const maxChars = 512

// unicode renders the UNICODE_STRING at v as a quoted string; "..." after
// it when Length claims more than is shown; its Buffer's address when
// that is unreadable.
func (a *args) unicode(v uint64) string {
	if v == 0 {
		return pointer(v)
	}
	n, buf, err := unicodeHeader(a.user, v)
	if err != nil {
		return pointer(v)
	}
	text, cut, err := readUTF16(a.user, buf, n, maxChars)
	if err != nil {
		return "{Length=" + strconv.Itoa(n) + ", Buffer=" + pointer(buf) + "}"
	}
	s := `"` + escape.String(text) + `"`
	if cut {
		s += "..."
	}
	return s
}

// unicodeHeader reads the UNICODE_STRING at v in s: its Length in bytes
// (even: a half character is no text) and its Buffer.
func unicodeHeader(s vmi.Space, v uint64) (n int, buf uint64, err error) {
	var hdr [16]byte
	if err := s.Read(hdr[:], v); err != nil {
		return 0, 0, err
	}
	return int(binary.LittleEndian.Uint16(hdr[:])) &^ 1, binary.LittleEndian.Uint64(hdr[8:]), nil
}

// readUTF16 reads the n bytes of UTF-16 text at buf in s, as UTF-8, but
// at most limit characters, whatever a guest's Length says; cut says
// there was more.
func readUTF16(s vmi.Space, buf uint64, n, limit int) (text string, cut bool, err error) {
	if n == 0 {
		return "", false, nil
	}
	raw := make([]byte, min(n, 2*limit))
	if err := s.Read(raw, buf); err != nil {
		return "", false, err
	}
	return decodeUTF16(raw), len(raw) < n, nil
}

// decodeUTF16 is UTF-16LE bytes as UTF-8; unpaired surrogates become U+FFFD.
func decodeUTF16(raw []byte) string {
	u := make([]uint16, len(raw)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(raw[2*i:])
	}
	return string(utf16.Decode(u))
}

// flag is one named bit group of a flags value.
type flag struct {
	bits uint64
	name string
}

// appendFlags writes v's named bits joined by '|', then what no name
// covers in hex; zero for 0.
func appendFlags(dst []byte, v uint64, table []flag, zero string) []byte {
	if v == 0 {
		return append(dst, zero...)
	}
	start := len(dst)
	for _, f := range table {
		if f.bits != 0 && v&f.bits == f.bits {
			if len(dst) > start {
				dst = append(dst, '|')
			}
			dst = append(dst, f.name...)
			v &^= f.bits
		}
	}
	if v != 0 {
		if len(dst) > start {
			dst = append(dst, '|')
		}
		dst = append(dst, hex(v)...)
	}
	return dst
}
