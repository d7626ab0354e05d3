package linux

import (
	"encoding/binary"
	"errors"
	"testing"
)

// entryCode is the shape of entry_SYSCALL_64: endbr64, swapgs, a few pushes,
// mov %rsp,%rdi, then call do_syscall_64 and the sysret path's first load.
func entryCode(entry, target uint64) ([]byte, uint64) {
	code := []byte{
		0xf3, 0x0f, 0x1e, 0xfa, // endbr64
		0x0f, 0x01, 0xf8, // swapgs
		0x6a, 0x2b, // push $0x2b
		0x41, 0x53, // push %r11
		0x50,             // push %rax
		0x48, 0x89, 0xe7, // mov %rsp,%rdi
		0x48, 0x63, 0xf0, // movslq %eax,%rsi
	}
	call := len(code)
	code = append(code, 0xe8, 0, 0, 0, 0) // call rel32
	after := entry + uint64(len(code))
	binary.LittleEndian.PutUint32(code[call+1:], uint32(int32(int64(target)-int64(after))))
	code = append(code, 0x48, 0x8b, 0x4c, 0x24, 0x58) // mov 0x58(%rsp),%rcx
	return code, after
}

func TestExitPoint(t *testing.T) {
	const entry = 0xffffffffaf400080
	for _, target := range []uint64{entry - 0x1bc2c0, entry + 0x1000} { // callee before and after
		code, want := entryCode(entry, target)
		got, err := ExitPoint(code, entry, target)
		if err != nil || got != want {
			t.Fatalf("ExitPoint(target %#x) = %#x, %v; want %#x", target, got, err, want)
		}
	}
}

func TestExitPointMissing(t *testing.T) {
	const entry = 0xffffffff81000000
	code, _ := entryCode(entry, 0xffffffff81200000)
	if _, err := ExitPoint(code, entry, 0xffffffff81300000); !errors.Is(err, ErrNoExitPoint) {
		t.Fatalf("call to another function: err = %v, want ErrNoExitPoint", err)
	}
	// push %es is invalid in 64-bit mode.
	if _, err := ExitPoint([]byte{0x06}, entry, 0); err == nil || errors.Is(err, ErrNoExitPoint) {
		t.Fatalf("undecodable bytes: err = %v, want a decode error", err)
	}
}

func TestJumpTarget(t *testing.T) {
	const pc = 0xffffffffa3802160
	for _, c := range []struct {
		code []byte
		to   uint64
		ok   bool
	}{
		{[]byte{0xe9, 0xaf, 0x00, 0x00, 0x00}, pc + 5 + 0xaf, true}, // sysenter's return, to 32-bit syscall's
		{[]byte{0xeb, 0xbe}, pc + 2 - 0x42, true},
		{[]byte{0x84, 0xc0}, 0, false},             // testb %al,%al
		{[]byte{0xff, 0xe0}, 0, false},             // jmp *%rax
		{[]byte{0x0f, 0x84, 0, 0, 0, 0}, 0, false}, // je
		{nil, 0, false},
	} {
		to, ok := jumpTarget(c.code, pc)
		if to != c.to || ok != c.ok {
			t.Errorf("jumpTarget(% x) = %#x, %v; want %#x, %v", c.code, to, ok, c.to, c.ok)
		}
	}
}
