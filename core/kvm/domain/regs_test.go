package domain

import "testing"

func TestParseSystemRegs(t *testing.T) {
	out := `RAX=0000000000000000 RBX=ffffffffb1a0a940 RCX=0000000000000000 RDX=0000000000000000
FS =0053 00000000fffde000 00003c00 0040f300 DPL=3 DS   [-WA]
GS =002b fffff80002a05000 ffffffff 00c0f300 DPL=3 DS   [-WA]
GDT=     fffff80000b95000 0000007f
IDT=     fffff80000b95080 00000fff
CR0=80050033 CR2=000000000c7aa730 CR3=000000000223e000 CR4=000006f0
DR0=0000000000000000 DR1=0000000000000000`
	r, err := parseSystemRegs(out)
	if want := (SystemRegs{CR3: 0x223e000, CR4: 0x6f0, GSBase: 0xfffff80002a05000, IDTBase: 0xfffff80000b95080}); err != nil || r != want {
		t.Errorf("got %#x %v, want %#x", r, err, want)
	}
	for _, bad := range []string{
		"",
		"CR3=zz CR4=6f0\nGS =002b 1 2 3\nIDT= 1 2",
		"CR0=80050033 CR3=1000\nGS =002b 1 2 3\nIDT= 1 2",
		"CR3=1000 CR4=6f0\nGS =002b zz ffffffff 0\nIDT= 1 2",
		"CR3=1000 CR4=6f0\nIDT=     fffff80000b95080 00000fff",
	} {
		if _, err := parseSystemRegs(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
