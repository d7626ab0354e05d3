package offsets

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"

	"github.com/cilium/ebpf/btf"
)

// ErrNoBTF is returned when a kernel carries no BTF.
var ErrNoBTF = errors.New("kernel has no BTF")

// FromBTF parses raw BTF (the bytes from __start_BTF to __stop_BTF, or a
// vmlinux's .BTF section) and extracts the offsets. Parsing a distribution
// kernel's BTF takes about 0.15 s; FromGuest caches the result.
func FromBTF(raw []byte) (*Offsets, error) {
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parsing kernel BTF: %w", err)
	}
	return FromSpec(spec)
}

// FromVmlinux extracts the offsets from a vmlinux's .BTF section. It works
// on stripped images (what a bzImage holds), which btf.LoadSpec rejects.
func FromVmlinux(image []byte) (*Offsets, error) {
	ef, err := elf.NewFile(bytes.NewReader(image))
	if err != nil {
		return nil, fmt.Errorf("reading vmlinux: %w", err)
	}
	sec := ef.Section(".BTF")
	if sec == nil || sec.Type == elf.SHT_NOBITS {
		return nil, ErrNoBTF
	}
	raw, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("reading vmlinux .BTF: %w", err)
	}
	return FromBTF(raw)
}

// FromSpec extracts the offsets from parsed BTF. Fields the kernel lacks
// stay Absent; the result is validated.
func FromSpec(spec *btf.Spec) (*Offsets, error) {
	o := empty()
	structs := map[string]*btf.Struct{}
	for _, f := range o.fields() {
		if f.kind == enumValue {
			if v, ok := enumerator(spec, f.structName, f.member); ok {
				*f.dst = v
			}
			continue
		}
		s, ok := structs[f.structName]
		if !ok {
			var err error
			if s, err = structByName(spec, f.structName); err != nil {
				return nil, err
			}
			structs[f.structName] = s
		}
		if s == nil {
			continue
		}
		switch f.kind {
		case sizeOfStruct:
			*f.dst = int(s.Size)
		case offsetOf, sizeOfMember:
			off, typ, ok := memberOf(s, f.member)
			if !ok {
				continue
			}
			if f.kind == offsetOf {
				*f.dst = int(off)
			} else if size, err := btf.Sizeof(typ); err == nil {
				*f.dst = size
			}
		}
	}
	cur, err := perCPUCurrent(spec)
	if err != nil {
		return nil, err
	}
	o.Current = cur
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("offsets from BTF: %w", err)
	}
	return o, nil
}

// structByName returns the struct called name, or nil if BTF has none.
// Several structs may share a name (BTF deduplication keeps conflicting
// definitions); they must agree on the size for us to pick one.
func structByName(spec *btf.Spec, name string) (*btf.Struct, error) {
	types, err := spec.AnyTypesByName(name)
	if errors.Is(err, btf.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("looking up struct %s: %w", name, err)
	}
	var found *btf.Struct
	for _, t := range types {
		s, ok := t.(*btf.Struct)
		if !ok {
			continue
		}
		if found != nil && found.Size != s.Size {
			return nil, fmt.Errorf("BTF has two struct %s of sizes %d and %d", name, found.Size, s.Size)
		}
		found = s
	}
	return found, nil
}

// enumerator returns the value of enumerator name of enum enumName, when
// it is small enough to be an offset-like value.
func enumerator(spec *btf.Spec, enumName, name string) (int, bool) {
	types, err := spec.AnyTypesByName(enumName)
	if err != nil {
		return 0, false
	}
	for _, t := range types {
		e, ok := t.(*btf.Enum)
		if !ok {
			continue
		}
		for _, v := range e.Values {
			if v.Name == name && v.Value < maxOffset {
				return int(v.Value), true
			}
		}
	}
	return 0, false
}

// maxNesting bounds the descent through anonymous members.
const maxNesting = 8

// memberOf finds a named member of s, looking inside anonymous structs and
// unions (task_struct and mm_struct wrap their fields in some), and returns
// its byte offset from the start of s.
func memberOf(s *btf.Struct, name string) (uint32, btf.Type, bool) {
	return memberIn(s, name, maxNesting)
}

func memberIn(c btf.Type, name string, depth int) (uint32, btf.Type, bool) {
	if depth == 0 {
		return 0, nil, false
	}
	var members []btf.Member
	switch c := c.(type) {
	case *btf.Struct:
		members = c.Members
	case *btf.Union:
		members = c.Members
	}
	for _, m := range members {
		if m.Name == name && m.BitfieldSize == 0 {
			return m.Offset.Bytes(), m.Type, true
		}
	}
	for _, m := range members {
		if m.Name != "" {
			continue
		}
		if off, typ, ok := memberIn(btf.UnderlyingType(m.Type), name, depth-1); ok {
			return m.Offset.Bytes() + off, typ, true
		}
	}
	return 0, nil, false
}

// perCPUCurrent finds where the running task's pointer lives: the
// current_task member of the per-cpu struct pcpu_hot (Linux 6.2+), or the
// per-cpu variable current_task (before). BTF describes per-cpu variables
// as VARs, so the choice needs no symbols.
func perCPUCurrent(spec *btf.Spec) (PerCPU, error) {
	if hasVar(spec, "pcpu_hot") {
		if s, err := structByName(spec, "pcpu_hot"); err == nil && s != nil {
			if off, _, ok := memberOf(s, "current_task"); ok {
				return PerCPU{Symbol: "pcpu_hot", Offset: int(off)}, nil
			}
		}
	}
	if hasVar(spec, "current_task") {
		return PerCPU{Symbol: "current_task", Offset: 0}, nil
	}
	return PerCPU{Offset: Absent}, nil
}

func hasVar(spec *btf.Spec, name string) bool {
	types, err := spec.AnyTypesByName(name)
	if err != nil {
		return false
	}
	for _, t := range types {
		if _, ok := t.(*btf.Var); ok {
			return true
		}
	}
	return false
}
