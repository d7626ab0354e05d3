package offsets

import (
	"errors"
	"fmt"
)

// Absent marks a field the kernel does not have.
const Absent = -1

// maxOffset bounds every offset and size: task_struct, the largest of these
// structures, is about 10 KiB.
const maxOffset = 1 << 20

// ErrIncomplete is returned when required offsets are missing.
var ErrIncomplete = errors.New("kernel structure offsets incomplete")

// Offsets is the structure layout of one kernel build. Offsets and sizes
// are in bytes; Absent means the kernel has no such field.
type Offsets struct {
	// Kernel names the build, informational (linux_banner when known).
	Kernel string `json:"kernel,omitempty"`

	Task    TaskStruct    `json:"task_struct"`
	Signal  SignalStruct  `json:"signal_struct"`
	MM      MMStruct      `json:"mm_struct"`
	Cred    CredStruct    `json:"cred"`
	Files   FilesStruct   `json:"files_struct"`
	Fdtable FdtableStruct `json:"fdtable"`
	File    FileStruct    `json:"file"`
	Path    PathStruct    `json:"path"`
	Dentry  DentryStruct  `json:"dentry"`
	Qstr    QstrStruct    `json:"qstr"`

	// The page cache path of a user address the process's page tables do
	// not map (package core/vmi/vma): the mm's maple tree of VMAs, a
	// file's address_space and its xarray, struct page. All optional.
	MapleTree    MapleTreeStruct    `json:"maple_tree"`
	MapleRange   MapleNodeStruct    `json:"maple_range_64"`
	MapleArange  MapleNodeStruct    `json:"maple_arange_64"`
	VMA          VMAStruct          `json:"vm_area_struct"`
	AddressSpace AddressSpaceStruct `json:"address_space"`
	XArray       XArrayStruct       `json:"xarray"`
	XaNode       XaNodeStruct       `json:"xa_node"`
	Page         PageStruct         `json:"page"`

	// The other views of the tasks than the task list, which a rootkit
	// hiding a process may leave alone: the pid table (init_pid_ns's idr,
	// what /proc looks pids up in) and the per-cpu run queues. Optional.
	PidNS PidNamespaceStruct `json:"pid_namespace"`
	IDR   IDRStruct          `json:"idr"`
	Pid   PidStruct          `json:"pid"`
	RQ    RQStruct           `json:"rq"`

	// PtRegsSize is sizeof(struct pt_regs): the user registers saved at
	// syscall entry sit at task->stack + ThreadSize - PtRegsSize.
	PtRegsSize int `json:"pt_regs_size"`
	// ThreadSize is THREAD_SIZE, the kernel stack size (not in BTF).
	ThreadSize int `json:"thread_size"`

	// Current locates the per-cpu pointer to the running task.
	Current PerCPU `json:"per_cpu_current"`

	key string // CacheKey
}

// PerCPU names a per-cpu location: the per-cpu symbol plus an offset.
type PerCPU struct {
	Symbol string `json:"symbol"`
	Offset int    `json:"offset"`
}

// TaskStruct is struct task_struct.
type TaskStruct struct {
	Size        int `json:"size"`
	State       int `json:"__state"`
	Flags       int `json:"flags"` // PF_*: PF_EXITING marks a task on its way out
	Tasks       int `json:"tasks"` // list of thread-group leaders, from init_task
	Pid         int `json:"pid"`
	Tgid        int `json:"tgid"`
	Comm        int `json:"comm"`
	CommSize    int `json:"comm_size"` // TASK_COMM_LEN
	RealParent  int `json:"real_parent"`
	Parent      int `json:"parent"`
	GroupLeader int `json:"group_leader"`
	ThreadGroup int `json:"thread_group"` // threads list up to Linux 6.6
	ThreadNode  int `json:"thread_node"`  // threads list since 6.6, on signal_struct.thread_head
	Mm          int `json:"mm"`
	ActiveMm    int `json:"active_mm"`
	RealCred    int `json:"real_cred"`
	Cred        int `json:"cred"`
	Stack       int `json:"stack"`
	Files       int `json:"files"`
	Signal      int `json:"signal"`
	PidLinks    int `json:"pid_links"` // pid_links[PIDTYPE_PID], on its struct pid's tasks[PIDTYPE_PID]
}

// SignalStruct is struct signal_struct.
type SignalStruct struct {
	ThreadHead int `json:"thread_head"` // since Linux 6.6
}

// MMStruct is struct mm_struct.
type MMStruct struct {
	Pgd      int `json:"pgd"`
	ArgStart int `json:"arg_start"`
	ArgEnd   int `json:"arg_end"`
	ExeFile  int `json:"exe_file"`
	MmMt     int `json:"mm_mt"` // the maple tree of VMAs, since Linux 6.1
}

// CredStruct is struct cred; the ids are kuid_t/kgid_t, a 32-bit value.
type CredStruct struct {
	UID  int `json:"uid"`
	GID  int `json:"gid"`
	EUID int `json:"euid"`
	EGID int `json:"egid"`
}

// FilesStruct is struct files_struct.
type FilesStruct struct {
	Fdt int `json:"fdt"`
}

// FdtableStruct is struct fdtable.
type FdtableStruct struct {
	MaxFds int `json:"max_fds"`
	Fd     int `json:"fd"`
}

// FileStruct is struct file.
type FileStruct struct {
	Path    int `json:"f_path"`
	Mapping int `json:"f_mapping"`
}

// MapleTreeStruct is struct maple_tree.
type MapleTreeStruct struct {
	Root int `json:"ma_root"`
}

// MapleNodeStruct is struct maple_range_64 or maple_arange_64, the
// layouts of a maple node: pivot and slot arrays and the metadata whose
// first byte is the offset of the last slot in use.
type MapleNodeStruct struct {
	Pivot int `json:"pivot"`
	Slot  int `json:"slot"`
	Meta  int `json:"meta"`
}

// VMAStruct is struct vm_area_struct.
type VMAStruct struct {
	Start int `json:"vm_start"`
	End   int `json:"vm_end"`
	Flags int `json:"vm_flags"`
	Pgoff int `json:"vm_pgoff"`
	File  int `json:"vm_file"`
}

// AddressSpaceStruct is struct address_space.
type AddressSpaceStruct struct {
	IPages int `json:"i_pages"`
}

// XArrayStruct is struct xarray.
type XArrayStruct struct {
	Head int `json:"xa_head"`
}

// XaNodeStruct is struct xa_node.
type XaNodeStruct struct {
	Shift int `json:"shift"`
	Slots int `json:"slots"`
}

// PageStruct is struct page; Uptodate is the bit number of PG_uptodate in
// its flags (enum pageflags, which moved in Linux 6.6).
type PageStruct struct {
	Size     int `json:"size"`
	Flags    int `json:"flags"`
	Mapping  int `json:"mapping"`
	Index    int `json:"index"`
	Uptodate int `json:"pg_uptodate"`
}

// PidNamespaceStruct is struct pid_namespace.
type PidNamespaceStruct struct {
	IDR int `json:"idr"`
}

// IDRStruct is struct idr; its idr_rt is an xarray.
type IDRStruct struct {
	RT int `json:"idr_rt"`
}

// PidStruct is struct pid; Tasks is tasks[PIDTYPE_PID], an hlist_head.
type PidStruct struct {
	Tasks int `json:"tasks"`
}

// RQStruct is struct rq, a CPU's run queue.
type RQStruct struct {
	Curr int `json:"curr"`
}

// PathStruct is struct path.
type PathStruct struct {
	Mnt    int `json:"mnt"`
	Dentry int `json:"dentry"`
}

// DentryStruct is struct dentry.
type DentryStruct struct {
	Parent int `json:"d_parent"`
	Name   int `json:"d_name"`
}

// QstrStruct is struct qstr.
type QstrStruct struct {
	Len  int `json:"len"`
	Name int `json:"name"`
}

// fieldKind says what a field binding measures.
type fieldKind int

const (
	offsetOf     fieldKind = iota // the member's offset
	sizeOfMember                  // the member's size
	sizeOfStruct                  // the structure's size
	enumValue                     // the value of enumerator member of enum structName
)

// field binds one value of Offsets to its C structure and member.
type field struct {
	structName, member string
	kind               fieldKind
	dst                *int
	required           bool
}

// fields lists every structure value of o, in one place for BTF
// extraction, defaults and validation.
func (o *Offsets) fields() []field {
	t := &o.Task
	return []field{
		{"task_struct", "", sizeOfStruct, &t.Size, false},
		{"task_struct", "__state", offsetOf, &t.State, false},
		{"task_struct", "flags", offsetOf, &t.Flags, false},
		{"task_struct", "tasks", offsetOf, &t.Tasks, true},
		{"task_struct", "pid", offsetOf, &t.Pid, true},
		{"task_struct", "tgid", offsetOf, &t.Tgid, true},
		{"task_struct", "comm", offsetOf, &t.Comm, true},
		{"task_struct", "comm", sizeOfMember, &t.CommSize, false},
		{"task_struct", "real_parent", offsetOf, &t.RealParent, true},
		{"task_struct", "parent", offsetOf, &t.Parent, false},
		{"task_struct", "group_leader", offsetOf, &t.GroupLeader, false},
		{"task_struct", "thread_group", offsetOf, &t.ThreadGroup, false},
		{"task_struct", "thread_node", offsetOf, &t.ThreadNode, false},
		{"task_struct", "mm", offsetOf, &t.Mm, true},
		{"task_struct", "active_mm", offsetOf, &t.ActiveMm, false},
		{"task_struct", "real_cred", offsetOf, &t.RealCred, false},
		{"task_struct", "cred", offsetOf, &t.Cred, false},
		{"task_struct", "stack", offsetOf, &t.Stack, false},
		{"task_struct", "files", offsetOf, &t.Files, false},
		{"task_struct", "signal", offsetOf, &t.Signal, false},
		{"signal_struct", "thread_head", offsetOf, &o.Signal.ThreadHead, false},
		{"task_struct", "pid_links", offsetOf, &t.PidLinks, false},
		{"pid_namespace", "idr", offsetOf, &o.PidNS.IDR, false},
		{"idr", "idr_rt", offsetOf, &o.IDR.RT, false},
		{"pid", "tasks", offsetOf, &o.Pid.Tasks, false},
		{"rq", "curr", offsetOf, &o.RQ.Curr, false},
		{"mm_struct", "pgd", offsetOf, &o.MM.Pgd, true},
		{"mm_struct", "arg_start", offsetOf, &o.MM.ArgStart, false},
		{"mm_struct", "arg_end", offsetOf, &o.MM.ArgEnd, false},
		{"mm_struct", "exe_file", offsetOf, &o.MM.ExeFile, false},
		{"cred", "uid", offsetOf, &o.Cred.UID, false},
		{"cred", "gid", offsetOf, &o.Cred.GID, false},
		{"cred", "euid", offsetOf, &o.Cred.EUID, false},
		{"cred", "egid", offsetOf, &o.Cred.EGID, false},
		{"files_struct", "fdt", offsetOf, &o.Files.Fdt, false},
		{"fdtable", "max_fds", offsetOf, &o.Fdtable.MaxFds, false},
		{"fdtable", "fd", offsetOf, &o.Fdtable.Fd, false},
		{"file", "f_path", offsetOf, &o.File.Path, false},
		{"file", "f_mapping", offsetOf, &o.File.Mapping, false},
		{"path", "mnt", offsetOf, &o.Path.Mnt, false},
		{"path", "dentry", offsetOf, &o.Path.Dentry, false},
		{"dentry", "d_parent", offsetOf, &o.Dentry.Parent, false},
		{"dentry", "d_name", offsetOf, &o.Dentry.Name, false},
		{"qstr", "len", offsetOf, &o.Qstr.Len, false},
		{"qstr", "name", offsetOf, &o.Qstr.Name, false},
		{"pt_regs", "", sizeOfStruct, &o.PtRegsSize, false},
		{"mm_struct", "mm_mt", offsetOf, &o.MM.MmMt, false},
		{"maple_tree", "ma_root", offsetOf, &o.MapleTree.Root, false},
		{"maple_range_64", "pivot", offsetOf, &o.MapleRange.Pivot, false},
		{"maple_range_64", "slot", offsetOf, &o.MapleRange.Slot, false},
		{"maple_range_64", "meta", offsetOf, &o.MapleRange.Meta, false},
		{"maple_arange_64", "pivot", offsetOf, &o.MapleArange.Pivot, false},
		{"maple_arange_64", "slot", offsetOf, &o.MapleArange.Slot, false},
		{"maple_arange_64", "meta", offsetOf, &o.MapleArange.Meta, false},
		{"vm_area_struct", "vm_start", offsetOf, &o.VMA.Start, false},
		{"vm_area_struct", "vm_end", offsetOf, &o.VMA.End, false},
		{"vm_area_struct", "vm_flags", offsetOf, &o.VMA.Flags, false},
		{"vm_area_struct", "vm_pgoff", offsetOf, &o.VMA.Pgoff, false},
		{"vm_area_struct", "vm_file", offsetOf, &o.VMA.File, false},
		{"address_space", "i_pages", offsetOf, &o.AddressSpace.IPages, false},
		{"xarray", "xa_head", offsetOf, &o.XArray.Head, false},
		{"xa_node", "shift", offsetOf, &o.XaNode.Shift, false},
		{"xa_node", "slots", offsetOf, &o.XaNode.Slots, false},
		{"page", "", sizeOfStruct, &o.Page.Size, false},
		{"page", "flags", offsetOf, &o.Page.Flags, false},
		{"page", "mapping", offsetOf, &o.Page.Mapping, false},
		{"page", "index", offsetOf, &o.Page.Index, false},
		{"pageflags", "PG_uptodate", enumValue, &o.Page.Uptodate, false},
	}
}

// defaultThreadSize is x86-64's THREAD_SIZE without KASAN (16 KiB).
const defaultThreadSize = 16 << 10

// empty returns Offsets with every field Absent.
func empty() *Offsets {
	o := &Offsets{ThreadSize: defaultThreadSize}
	for _, f := range o.fields() {
		*f.dst = Absent
	}
	o.Current.Offset = Absent
	return o
}

// Validate checks that the required values are present and every value is
// in range.
func (o *Offsets) Validate() error {
	var missing []string
	for _, f := range o.fields() {
		v := *f.dst
		if v < Absent || v >= maxOffset {
			return fmt.Errorf("%w: %s out of range: %d", ErrIncomplete, f.name(), v)
		}
		if f.required && v == Absent {
			missing = append(missing, f.name())
		}
	}
	if o.Current.Symbol == "" || o.Current.Offset < 0 || o.Current.Offset >= maxOffset {
		missing = append(missing, "per_cpu_current")
	}
	if o.ThreadSize <= 0 || o.ThreadSize >= maxOffset {
		return fmt.Errorf("%w: thread_size out of range: %d", ErrIncomplete, o.ThreadSize)
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: missing %v", ErrIncomplete, missing)
	}
	return nil
}

func (f field) name() string {
	switch f.kind {
	case sizeOfStruct:
		return "sizeof(" + f.structName + ")"
	case sizeOfMember:
		return "sizeof(" + f.structName + "." + f.member + ")"
	case enumValue:
		return "enum " + f.structName + " " + f.member
	}
	return f.structName + "." + f.member
}
