package gdbstub

import (
	"testing"
)

func TestPlanStep(t *testing.T) {
	for _, tc := range []struct {
		name string
		code []byte
		kind stepKind
		len  uint64
	}{
		{"swapgs", []byte{0x0f, 0x01, 0xf8}, stepSwapgs, 3},
		{"endbr64", []byte{0xf3, 0x0f, 0x1e, 0xfa}, stepSkip, 4},
		{"nopl (fentry)", []byte{0x0f, 0x1f, 0x44, 0x00, 0x00}, stepSkip, 5},
		{"store to pt_regs", []byte{0x48, 0x89, 0x43, 0x50}, stepMov, 4},
		{"load from stack", []byte{0x48, 0x8b, 0x4c, 0x24, 0x58}, stepMov, 5},
		{"store to gs", []byte{0x65, 0x48, 0x89, 0x24, 0x25, 0x14, 0x60, 0x00, 0x00}, stepMov, 9},
		{"mov reg reg", []byte{0x48, 0x89, 0xdf}, stepMov, 3},
		// A push writes rsp and memory, a load through its destination
		// reads elsewhere when run again: no order of their writes is
		// safe to die in the middle of.
		{"push rbx", []byte{0x53}, stepSingle, 0},
		{"load through its destination", []byte{0x48, 0x8b, 0x00}, stepSingle, 0},
		{"load through another", []byte{0x48, 0x8b, 0x03}, stepMov, 3},
		{"push imm", []byte{0x6a, 0x2b}, stepSingle, 0},
		{"32-bit mov", []byte{0x89, 0xd0}, stepSingle, 0},
		{"mov from cr3", []byte{0x0f, 0x20, 0xdc}, stepSingle, 0},
		{"call", []byte{0xe8, 0x9a, 0x3c, 0xe4, 0xff}, stepSingle, 0},
		{"jmp rel32", []byte{0xe9, 0xaf, 0x00, 0x00, 0x00}, stepJmp, 5},
		{"jmp rel8", []byte{0xeb, 0xbe}, stepJmp, 2},
		{"jmp *rax", []byte{0xff, 0xe0}, stepSingle, 0},
		// Flags are never emulated: QEMU's stub cannot write them under TCG
		// (see arithFlags).
		{"testb al", []byte{0x84, 0xc0}, stepSingle, 0},
		{"cmp", []byte{0x49, 0x39, 0xcb}, stepSingle, 0},
		{"garbage", []byte{0x0f, 0xff}, stepSingle, 0},
		{"empty", nil, stepSingle, 0},
	} {
		p := planStep(tc.code)
		if p.kind != tc.kind || p.kind != stepSingle && p.len != tc.len {
			t.Errorf("%s: got kind %d len %d, want %d %d", tc.name, p.kind, p.len, tc.kind, tc.len)
		}
	}
}

// FuzzPlanStep: guest code is hostile; decoding never panics and only
// plans emulation for operands the emulator handles.
func FuzzPlanStep(f *testing.F) {
	f.Add([]byte{0x0f, 0x01, 0xf8})
	f.Add([]byte{0x65, 0x48, 0x89, 0x24, 0x25, 0x14, 0x60, 0x00, 0x00})
	f.Add([]byte{0x48, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, code []byte) {
		p := planStep(code)
		if p.kind != stepSingle && (p.len == 0 || p.len > 15) {
			t.Fatalf("plan %+v", p)
		}
		if p.kind == stepMov && !movable(p.inst.Args[0], p.inst.Args[1]) {
			t.Fatalf("mov planned for %v", p.inst)
		}
	})
}
