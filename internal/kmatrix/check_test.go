package main

import (
	"testing"

	"nitro/internal/bootkernel"
)

// TestBootKernels runs the matrix's checks on the kernels lab/deps.sh
// installs in /boot (Debian's current 6.1 and 6.12): the fast subset of
// `make kernel-matrix`.
func TestBootKernels(t *testing.T) {
	for _, glob := range []string{"/boot/vmlinuz-6.1.*", "/boot/vmlinuz-6.12.*"} {
		t.Run(glob, func(t *testing.T) {
			out, err := checkVmlinux(bootkernel.Vmlinux(t, glob))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d symbols, %v, %d bytes of BTF", out.banner, out.symbols, out.layout, out.btf)
		})
	}
}
