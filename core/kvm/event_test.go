package kvm

import "testing"

func TestRegsRef(t *testing.T) {
	var r Regs
	for i, name := range RegNames {
		p, ok := r.Ref(name)
		if !ok {
			t.Fatalf("Ref(%q) not found", name)
		}
		*p = uint64(i + 1)
	}
	if r.RAX != 1 || r.RDI != 6 || r.R10 != 11 || r.RIP != 17 || r.RFlags != 18 {
		t.Fatalf("registers set by name land elsewhere: %+v", r)
	}
	if _, ok := r.Ref("cr3"); ok {
		t.Fatal("Ref knows a register it cannot set")
	}
}
