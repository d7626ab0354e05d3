package offsets

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"testing"

	"nitro/core/vmi/ksym"
	"nitro/internal/bootkernel"
)

var bootKernels = []struct {
	glob    string
	current string
}{
	{"/boot/vmlinuz-6.1.*", "current_task"},
	{"/boot/vmlinuz-6.12.*", "pcpu_hot"},
}

// elfImage reads a vmlinux's loaded bytes by virtual address.
type elfImage struct{ f *elf.File }

func (e elfImage) read(tb testing.TB, virt uint64, n int) []byte {
	tb.Helper()
	for _, p := range e.f.Progs {
		if p.Type == elf.PT_LOAD && virt >= p.Vaddr && virt+uint64(n) <= p.Vaddr+p.Filesz {
			b := make([]byte, n)
			if _, err := p.ReadAt(b, int64(virt-p.Vaddr)); err != nil {
				tb.Fatal(err)
			}
			return b
		}
	}
	tb.Fatalf("%#x is not in the image", virt)
	return nil
}

func (e elfImage) u64(tb testing.TB, virt uint64) uint64 {
	return binary.LittleEndian.Uint64(e.read(tb, virt, 8))
}

// TestBootKernels checks the BTF offsets against the statically initialised
// init_task of the same kernel: its comm is "swapper", its tasks list is
// empty (points to itself), it is its own parent and borrows init_mm.
func TestBootKernels(t *testing.T) {
	for _, k := range bootKernels {
		t.Run(k.glob, func(t *testing.T) {
			image := bootkernel.Vmlinux(t, k.glob)
			o, err := FromVmlinux(image)
			if err != nil {
				t.Fatal(err)
			}
			syms, err := ksym.FromVmlinux(image)
			if err != nil {
				t.Fatal(err)
			}
			ef, err := elf.NewFile(bytes.NewReader(image))
			if err != nil {
				t.Fatal(err)
			}
			img := elfImage{ef}
			initTask, _ := syms.Lookup("init_task")
			initMM, _ := syms.Lookup("init_mm")
			if comm := img.read(t, initTask+uint64(o.Task.Comm), o.Task.CommSize); !bytes.HasPrefix(comm, []byte("swapper\x00")) {
				t.Errorf("init_task.comm = %q", comm)
			}
			tasks := initTask + uint64(o.Task.Tasks)
			if next := img.u64(t, tasks); next != tasks {
				t.Errorf("init_task.tasks.next = %#x, want itself %#x", next, tasks)
			}
			for name, off := range map[string]int{"real_parent": o.Task.RealParent, "parent": o.Task.Parent, "group_leader": o.Task.GroupLeader} {
				if p := img.u64(t, initTask+uint64(off)); p != initTask {
					t.Errorf("init_task.%s = %#x, want init_task %#x", name, p, initTask)
				}
			}
			if p := img.u64(t, initTask+uint64(o.Task.ActiveMm)); p != initMM {
				t.Errorf("init_task.active_mm = %#x, want init_mm %#x", p, initMM)
			}
			if p := img.u64(t, initTask+uint64(o.Task.Mm)); p != 0 {
				t.Errorf("init_task.mm = %#x, want NULL", p)
			}
			if o.Current.Symbol != k.current {
				t.Errorf("per-cpu current in %q, want %q", o.Current.Symbol, k.current)
			}
			gs, err := o.CurrentTaskGS(syms)
			if err != nil || gs >= 1<<20 {
				t.Errorf("CurrentTaskGS = %#x, %v: want a small per-cpu offset", gs, err)
			}
			if o.PtRegsSize != 168 {
				t.Errorf("sizeof(pt_regs) = %d, want x86-64's 168", o.PtRegsSize)
			}
			// The memory map a forked child's untouched pages are read
			// through (package linuxmm). A maple node is 256 bytes: its
			// metadata sits at fixed places, inside anonymous members.
			for name, v := range map[string]int{
				"mm_struct.mm_mt": o.MM.MmMt, "maple_tree.ma_root": o.MapleTree.Root, "vm_area_struct.vm_start": o.VMA.Start,
				"vm_area_struct.vm_flags": o.VMA.Flags, "vm_area_struct.vm_file": o.VMA.File, "file.f_mapping": o.File.Mapping,
				"address_space.i_pages": o.AddressSpace.IPages, "xa_node.slots": o.XaNode.Slots, "page.index": o.Page.Index,
				"PG_uptodate": o.Page.Uptodate,
				// The views of the tasks a hidden process is found by.
				"task_struct.pid_links": o.Task.PidLinks, "pid_namespace.idr": o.PidNS.IDR, "idr.idr_rt": o.IDR.RT,
				"pid.tasks": o.Pid.Tasks, "rq.curr": o.RQ.Curr,
			} {
				if v == Absent {
					t.Errorf("%s absent", name)
				}
			}
			if o.MapleRange.Meta != 248 || o.MapleArange.Meta != 240 || o.Page.Size != 64 {
				t.Errorf("maple_range_64.meta %d, maple_arange_64.meta %d, sizeof(struct page) %d; want 248, 240, 64",
					o.MapleRange.Meta, o.MapleArange.Meta, o.Page.Size)
			}
		})
	}
}

func BenchmarkFromVmlinux(b *testing.B) {
	for _, k := range bootKernels {
		b.Run(k.glob, func(b *testing.B) {
			image := bootkernel.Vmlinux(b, k.glob)
			for b.Loop() {
				if _, err := FromVmlinux(image); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
