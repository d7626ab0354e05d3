package nitroioctl

import (
	"bufio"
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"nitro/core/kvm"
	"nitro/internal/testenv"
)

// cLayout builds and runs testdata/layout.c, which prints what the C
// compiler makes of <linux/kvm.h> and the Nitro declarations.
func cLayout(t *testing.T) map[string]uint64 {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		testenv.Missing(t, "gcc not found: cannot check the ioctl ABI against the C compiler")
	}
	bin := filepath.Join(t.TempDir(), "layout")
	if out, err := exec.Command(gcc, "-Wall", "-Werror", "-o", bin, "testdata/layout.c").CombinedOutput(); err != nil {
		t.Fatalf("compiling testdata/layout.c (is linux-libc-dev installed?): %v\n%s", err, out)
	}
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatalf("running the layout program: %v", err)
	}
	got := make(map[string]uint64)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		v, err := strconv.ParseUint(f[len(f)-1], 10, 64)
		if err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		got[strings.Join(f[:len(f)-1], " ")] = v
	}
	return got
}

// sameName matches a C field name to a Go one: apic_base to APICBase.
func sameName(c, goName string) bool {
	return strings.EqualFold(strings.ReplaceAll(c, "_", ""), goName)
}

func TestLayoutMatchesC(t *testing.T) {
	c := cLayout(t)
	structs := map[string]reflect.Type{
		"kvm_regs":    reflect.TypeFor[kvmRegs](),
		"kvm_segment": reflect.TypeFor[kvmSegment](),
		"kvm_dtable":  reflect.TypeFor[kvmDTable](),
		"kvm_sregs":   reflect.TypeFor[kvmSRegs](),
		"event":       reflect.TypeFor[rawEvent](),
		"nitro_vcpus": reflect.TypeFor[nitroVCPUs](),
	}
	for cName, typ := range structs {
		size, ok := c["size "+cName]
		if !ok {
			t.Errorf("layout program printed no size for struct %s", cName)
			continue
		}
		if uint64(typ.Size()) != size {
			t.Errorf("sizeof(struct %s) = %d, Go %s is %d bytes", cName, size, typ.Name(), typ.Size())
		}
		seen := make(map[string]bool)
		prefix := "offset " + cName + " "
		for key, off := range c {
			cField, ok := strings.CutPrefix(key, prefix)
			if !ok {
				continue
			}
			var match *reflect.StructField
			for i := range typ.NumField() {
				if f := typ.Field(i); sameName(cField, f.Name) {
					match = &f
				}
			}
			if match == nil {
				t.Errorf("struct %s field %s has no counterpart in %s", cName, cField, typ.Name())
				continue
			}
			seen[match.Name] = true
			if uint64(match.Offset) != off {
				t.Errorf("offsetof(struct %s, %s) = %d, Go %s.%s at %d", cName, cField, off, typ.Name(), match.Name, match.Offset)
			}
		}
		for i := range typ.NumField() {
			if f := typ.Field(i); f.Name != "_" && !seen[f.Name] {
				t.Errorf("Go %s.%s is not a field of struct %s", typ.Name(), f.Name, cName)
			}
		}
	}

	enums := map[string]uint64{"ENTER": rawEnter, "EXIT": rawExit, "SYSENTER": rawSysenter, "SYSCALL": rawSyscall}
	for name, v := range enums {
		if c["enum "+name] != v {
			t.Errorf("enum %s = %d in C, %d in Go", name, c["enum "+name], v)
		}
	}

	requests := map[string]uint{
		"KVM_NITRO_ATTACH_VM":             reqAttachVM,
		"KVM_NITRO_ATTACH_VCPUS":          reqAttachVCPUs,
		"KVM_NITRO_SET_SYSCALL_TRAP":      reqSetSyscallTrap,
		"KVM_NITRO_GET_EVENT":             reqGetEvent,
		"KVM_NITRO_CONTINUE":              reqContinue,
		"KVM_NITRO_GET_REGS":              reqGetRegs,
		"KVM_NITRO_SET_REGS":              reqSetRegs,
		"KVM_NITRO_GET_SREGS":             reqGetSRegs,
		"KVM_NITRO_SET_SREGS":             reqSetSRegs,
		"KVM_NITRO_ADD_SYSCALL_FILTER":    reqAddSyscallFilter,
		"KVM_NITRO_REMOVE_SYSCALL_FILTER": reqRemoveSyscallFilter,
		// The encoder itself, on a request the installed header defines.
		"KVM_GET_REGS": ioc(iocRead, 0x81, unsafe.Sizeof(kvmRegs{})),
	}
	for name, req := range requests {
		want, ok := c["ioctl "+name]
		if !ok {
			t.Errorf("layout program printed no %s", name)
			continue
		}
		if uint64(req) != want {
			t.Errorf("%s = %#x in C, %#x in Go", name, want, req)
		}
	}
}

// TestConversionsKeepEveryField fills each field with its own value and
// checks it lands in the field of the same name, so no two registers are
// swapped (kvm_regs has RSP before RBP, kvm.Regs the other way round).
func TestConversionsKeepEveryField(t *testing.T) {
	var raw kvmRegs
	rv := reflect.ValueOf(&raw).Elem()
	for i := range rv.NumField() {
		rv.Field(i).SetUint(uint64(i + 1))
	}
	regs := raw.toKVM()
	gv := reflect.ValueOf(regs)
	for i := range gv.NumField() {
		name := gv.Type().Field(i).Name
		if got, want := gv.Field(i).Uint(), rv.FieldByName(name).Uint(); got != want {
			t.Errorf("kvm.Regs.%s = %d, want %d", name, got, want)
		}
	}
	if back := regsFromKVM(&regs); back != raw {
		t.Errorf("regsFromKVM(toKVM(r)) = %+v, want %+v", back, raw)
	}

	s := kvmSRegs{CR0: 1, CR2: 2, CR3: 3, CR4: 4, CR8: 5, EFER: 6, APICBase: 7}
	s.FS.Base, s.GS.Base = 8, 9
	want := kvm.SRegs{CR0: 1, CR2: 2, CR3: 3, CR4: 4, CR8: 5, EFER: 6, FSBase: 8, GSBase: 9}
	if got := s.toKVM(); got != want {
		t.Errorf("sregs.toKVM() = %+v, want %+v", got, want)
	}
}

// FuzzEvent feeds every direction and type value to the conversion: the
// known ones map, the rest are refused, none panics.
func FuzzEvent(f *testing.F) {
	f.Add(uint32(rawEnter), uint32(rawSyscall), uint64(59))
	f.Add(uint32(rawExit), uint32(rawSysenter), uint64(0))
	f.Add(uint32(2), uint32(0), uint64(1))
	f.Add(uint32(0), uint32(2), uint64(1)) // KASLR in later forks
	f.Add(^uint32(0), ^uint32(0), ^uint64(0))
	f.Fuzz(func(t *testing.T, dir, typ uint32, rax uint64) {
		v := &vcpu{index: 3}
		raw := rawEvent{Direction: dir, Type: typ, Regs: kvmRegs{RAX: rax}}
		ev, err := v.event(&raw, time.Unix(1, 0))
		known := dir <= rawExit && typ <= rawSyscall
		if !known {
			if !errors.Is(err, ErrUnknownEvent) || ev != nil {
				t.Fatalf("direction %d type %d: got %v, %v; want ErrUnknownEvent", dir, typ, ev, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("direction %d type %d: %v", dir, typ, err)
		}
		wantDir := map[uint32]kvm.Direction{rawEnter: kvm.Enter, rawExit: kvm.Exit}[dir]
		wantMech := map[uint32]kvm.Mechanism{rawSyscall: kvm.Syscall, rawSysenter: kvm.Sysenter}[typ]
		if ev.VCPU != 3 || ev.Direction != wantDir || ev.Mechanism != wantMech || ev.Regs.RAX != rax {
			t.Fatalf("direction %d type %d: got %+v", dir, typ, ev)
		}
	})
}
