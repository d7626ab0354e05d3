package domain

import "testing"

func TestParsePagingRegs(t *testing.T) {
	out := `RAX=0000000000000000 RBX=ffffffffb1a0a940 RCX=0000000000000000 RDX=0000000000000000
ES =0000 0000000000000000 00000000 00000000
CR0=80050033 CR2=000000000c7aa730 CR3=000000000223e000 CR4=000006f0
DR0=0000000000000000 DR1=0000000000000000`
	cr3, cr4, err := parsePagingRegs(out)
	if err != nil || cr3 != 0x223e000 || cr4 != 0x6f0 {
		t.Errorf("got %#x %#x %v", cr3, cr4, err)
	}
	for _, bad := range []string{"", "CR3=zz CR4=6f0", "CR0=80050033 CR3=1000"} {
		if _, _, err := parsePagingRegs(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
