package windows

import "strconv"

// Access rights (winnt.h): the generic, standard and the file/key
// specific ones most calls ask for. Composite rights come first so they
// are named whole.
var accessFlags = []flag{
	{0x10000000, "GENERIC_ALL"}, {0x20000000, "GENERIC_EXECUTE"},
	{0x40000000, "GENERIC_WRITE"}, {0x80000000, "GENERIC_READ"},
	{0x02000000, "MAXIMUM_ALLOWED"}, {0x01000000, "ACCESS_SYSTEM_SECURITY"},
	{0x001f0fff, "PROCESS_ALL_ACCESS"}, {0x001f01ff, "FILE_ALL_ACCESS"}, {0x000f003f, "KEY_ALL_ACCESS"},
	{0x00120089, "FILE_GENERIC_READ"}, {0x00120116, "FILE_GENERIC_WRITE"}, {0x001200a0, "FILE_GENERIC_EXECUTE"},
	{0x00020019, "KEY_READ"}, {0x00020006, "KEY_WRITE"},
	{0x00100000, "SYNCHRONIZE"}, {0x00080000, "WRITE_OWNER"}, {0x00040000, "WRITE_DAC"},
	{0x00020000, "READ_CONTROL"}, {0x00010000, "DELETE"},
	{0x0001, "FILE_READ_DATA"}, {0x0002, "FILE_WRITE_DATA"}, {0x0004, "FILE_APPEND_DATA"},
	{0x0008, "FILE_READ_EA"}, {0x0010, "FILE_WRITE_EA"}, {0x0020, "FILE_EXECUTE"},
	{0x0080, "FILE_READ_ATTRIBUTES"}, {0x0100, "FILE_WRITE_ATTRIBUTES"},
}

var fileAttrs = []flag{
	{0x1, "FILE_ATTRIBUTE_READONLY"}, {0x2, "FILE_ATTRIBUTE_HIDDEN"}, {0x4, "FILE_ATTRIBUTE_SYSTEM"},
	{0x10, "FILE_ATTRIBUTE_DIRECTORY"}, {0x20, "FILE_ATTRIBUTE_ARCHIVE"}, {0x80, "FILE_ATTRIBUTE_NORMAL"},
	{0x100, "FILE_ATTRIBUTE_TEMPORARY"},
}

var shareFlags = []flag{{0x1, "FILE_SHARE_READ"}, {0x2, "FILE_SHARE_WRITE"}, {0x4, "FILE_SHARE_DELETE"}}

var dispositions = []string{"FILE_SUPERSEDE", "FILE_OPEN", "FILE_CREATE", "FILE_OPEN_IF", "FILE_OVERWRITE", "FILE_OVERWRITE_IF"}

var createOptions = []flag{
	{0x1, "FILE_DIRECTORY_FILE"}, {0x2, "FILE_WRITE_THROUGH"}, {0x4, "FILE_SEQUENTIAL_ONLY"},
	{0x8, "FILE_NO_INTERMEDIATE_BUFFERING"}, {0x10, "FILE_SYNCHRONOUS_IO_ALERT"},
	{0x20, "FILE_SYNCHRONOUS_IO_NONALERT"}, {0x40, "FILE_NON_DIRECTORY_FILE"},
	{0x1000, "FILE_DELETE_ON_CLOSE"}, {0x4000, "FILE_OPEN_FOR_BACKUP_INTENT"},
	{0x200000, "FILE_OPEN_REPARSE_POINT"},
}

var objAttributes = []flag{
	{0x2, "OBJ_INHERIT"}, {0x10, "OBJ_PERMANENT"}, {0x20, "OBJ_EXCLUSIVE"},
	{0x40, "OBJ_CASE_INSENSITIVE"}, {0x80, "OBJ_OPENIF"}, {0x100, "OBJ_OPENLINK"},
	{0x200, "OBJ_KERNEL_HANDLE"}, {0x400, "OBJ_FORCE_ACCESS_CHECK"},
}

var protections = []flag{
	{0x01, "PAGE_NOACCESS"}, {0x02, "PAGE_READONLY"}, {0x04, "PAGE_READWRITE"}, {0x08, "PAGE_WRITECOPY"},
	{0x10, "PAGE_EXECUTE"}, {0x20, "PAGE_EXECUTE_READ"}, {0x40, "PAGE_EXECUTE_READWRITE"},
	{0x80, "PAGE_EXECUTE_WRITECOPY"}, {0x100, "PAGE_GUARD"}, {0x200, "PAGE_NOCACHE"}, {0x400, "PAGE_WRITECOMBINE"},
}

var allocTypes = []flag{
	{0x1000, "MEM_COMMIT"}, {0x2000, "MEM_RESERVE"}, {0x4000, "MEM_DECOMMIT"}, {0x8000, "MEM_RELEASE"},
	{0x80000, "MEM_RESET"}, {0x100000, "MEM_TOP_DOWN"}, {0x200000, "MEM_WRITE_WATCH"},
	{0x400000, "MEM_PHYSICAL"}, {0x20000000, "MEM_LARGE_PAGES"},
}

// ioctl shows an I/O control code as CTL_CODE(device, function, method,
// access).
func ioctl(c uint32) string {
	return "CTL_CODE(" + hex(uint64(c>>16)) + ", " + hex(uint64(c>>2&0xfff)) + ", " +
		strconv.Itoa(int(c&3)) + ", " + strconv.Itoa(int(c>>14&3)) + ")"
}

// status is an NTSTATUS's name and meaning.
type status struct{ name, text string }

var statuses = map[uint32]status{
	0x00000000: {"STATUS_SUCCESS", ""},
	0x00000102: {"STATUS_TIMEOUT", "The wait timed out"},
	0x00000103: {"STATUS_PENDING", "The operation has not completed"},
	0x80000005: {"STATUS_BUFFER_OVERFLOW", "The data was too large to fit into the buffer"},
	0x8000001a: {"STATUS_NO_MORE_ENTRIES", "No more entries are available"},
	0xc0000001: {"STATUS_UNSUCCESSFUL", "The operation was unsuccessful"},
	0xc0000002: {"STATUS_NOT_IMPLEMENTED", "The request is not implemented"},
	0xc0000004: {"STATUS_INFO_LENGTH_MISMATCH", "The length does not match the information class"},
	0xc0000005: {"STATUS_ACCESS_VIOLATION", "Access violation"},
	0xc0000008: {"STATUS_INVALID_HANDLE", "An invalid handle was specified"},
	0xc000000d: {"STATUS_INVALID_PARAMETER", "An invalid parameter was passed"},
	0xc000000f: {"STATUS_NO_SUCH_FILE", "The file does not exist"},
	0xc0000017: {"STATUS_NO_MEMORY", "Not enough virtual memory or paging file quota"},
	0xc0000022: {"STATUS_ACCESS_DENIED", "Access is denied"},
	0xc0000023: {"STATUS_BUFFER_TOO_SMALL", "The buffer is too small"},
	0xc0000024: {"STATUS_OBJECT_TYPE_MISMATCH", "Wrong type of object"},
	0xc0000033: {"STATUS_OBJECT_NAME_INVALID", "The object name is invalid"},
	0xc0000034: {"STATUS_OBJECT_NAME_NOT_FOUND", "The object name was not found"},
	0xc0000035: {"STATUS_OBJECT_NAME_COLLISION", "The object name already exists"},
	0xc000003a: {"STATUS_OBJECT_PATH_NOT_FOUND", "The path does not exist"},
	0xc0000043: {"STATUS_SHARING_VIOLATION", "The file is open in a way that forbids this sharing"},
	0xc0000045: {"STATUS_INVALID_PAGE_PROTECTION", "The page protection is not valid"},
	0xc0000061: {"STATUS_PRIVILEGE_NOT_HELD", "A required privilege is not held"},
	0xc00000ba: {"STATUS_FILE_IS_A_DIRECTORY", "The file is a directory"},
	0xc00000bb: {"STATUS_NOT_SUPPORTED", "The request is not supported"},
	0xc0000135: {"STATUS_DLL_NOT_FOUND", "A DLL was not found"},
}

// Failed says whether an NTSTATUS is an error: severity bits 0b11.
func Failed(st uint32) bool { return st>>30 == 3 }

// StatusName is the NTSTATUS's name, "" when nitro does not know it.
func StatusName(st uint32) string { return statuses[st].name }

// StatusText is an NTSTATUS as a call's return shows it: "0", or its hex
// value, name and meaning.
func StatusText(st uint32) string {
	if st == 0 {
		return "0 STATUS_SUCCESS"
	}
	s := "0x" + strconv.FormatUint(uint64(st), 16)
	if known, ok := statuses[st]; ok {
		s += " " + known.name
		if known.text != "" {
			s += " (" + known.text + ")"
		}
	}
	return s
}

// lookupName is names[v], or v in decimal when it has no name.
func lookupName(v uint64, names []string) string {
	if v < uint64(len(names)) && names[v] != "" {
		return names[v]
	}
	return strconv.FormatUint(v&0xffffffff, 10)
}

// Registry value types (winnt.h).
const (
	regSZ       = 1
	regExpandSZ = 2
)

var regTypes = []string{"REG_NONE", "REG_SZ", "REG_EXPAND_SZ", "REG_BINARY", "REG_DWORD",
	"REG_DWORD_BIG_ENDIAN", "REG_LINK", "REG_MULTI_SZ", "REG_RESOURCE_LIST",
	"REG_FULL_RESOURCE_DESCRIPTOR", "REG_RESOURCE_REQUIREMENTS_LIST", "REG_QWORD"}

// SYSTEM_INFORMATION_CLASS values malware asks for most.
var systemClasses = func() []string {
	n := make([]string, 0x4d)
	n[0x00] = "SystemBasicInformation"
	n[0x02] = "SystemPerformanceInformation"
	n[0x03] = "SystemTimeOfDayInformation"
	n[0x05] = "SystemProcessInformation"
	n[0x0b] = "SystemModuleInformation"
	n[0x10] = "SystemHandleInformation"
	n[0x23] = "SystemKernelDebuggerInformation"
	n[0x40] = "SystemExtendedHandleInformation"
	n[0x4c] = "SystemFirmwareTableInformation"
	return n
}()

// FILE_INFORMATION_CLASS values (wdm.h).
var fileClasses = func() []string {
	n := make([]string, 0x45)
	n[1] = "FileDirectoryInformation"
	n[2] = "FileFullDirectoryInformation"
	n[3] = "FileBothDirectoryInformation"
	n[4] = "FileBasicInformation"
	n[5] = "FileStandardInformation"
	n[10] = "FileRenameInformation"
	n[11] = "FileLinkInformation"
	n[12] = "FileNamesInformation"
	n[13] = "FileDispositionInformation"
	n[14] = "FilePositionInformation"
	n[19] = "FileAllocationInformation"
	n[20] = "FileEndOfFileInformation"
	n[37] = "FileIdBothDirectoryInformation"
	n[38] = "FileIdFullDirectoryInformation"
	return n
}()
