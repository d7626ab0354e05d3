package main

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestSelectKernels(t *testing.T) {
	names := []string{
		"linux-image-6.1.0-10-amd64", "linux-image-6.1.0-9-amd64", "linux-image-6.1.0-9-amd64-unsigned",
		"linux-image-6.1.0-9-cloud-amd64-unsigned", "linux-image-6.1.0-9-rt-amd64",
		"linux-image-6.12.117+deb12-amd64", "linux-image-6.12.12+bpo-cloud-amd64",
	}
	for _, n := range []string{"linux-image-6.12-amd64", "linux-image-6.1.0-9-amd64-dbg", "linux-image-6.10.1-amd64", "linux-image-6.1.0-9-arm64"} {
		if imageName.MatchString(n) {
			t.Errorf("%s matches: it is no image package of the matrix", n)
		}
	}
	policy := []byte(`linux-image-6.1.0-10-amd64:
  Installed: (none)
  Candidate: 6.1.180-1
  Version table:
     6.1.180-1 500
        500 http://deb.debian.org/debian-security bookworm-security/main amd64 Packages
linux-image-6.1.0-9-amd64:
  Installed: (none)
  Candidate: 6.1.170-3
linux-image-6.1.0-9-amd64-unsigned:
  Installed: (none)
  Candidate: 6.1.170-3
linux-image-6.1.0-9-cloud-amd64-unsigned:
  Installed: (none)
  Candidate: 6.1.170-3
linux-image-6.1.0-9-rt-amd64:
  Installed: (none)
  Candidate: (none)
linux-image-6.12.117+deb12-amd64:
  Installed: 6.12.117-1~deb12u1
  Candidate: 6.12.117-1~deb12u1
linux-image-6.12.12+bpo-cloud-amd64:
  Installed: (none)
  Candidate: 6.12.12-1~bpo12+1
`)
	var got []string
	for _, k := range selectKernels(names, parsePolicy(policy)) {
		got = append(got, k.pkg+"="+k.version+" "+k.series+" "+k.flavour)
	}
	want := []string{
		"linux-image-6.1.0-9-amd64=6.1.170-3 6.1 amd64",
		"linux-image-6.1.0-9-cloud-amd64-unsigned=6.1.170-3 6.1 cloud-amd64", // no signed one
		"linux-image-6.1.0-10-amd64=6.1.180-1 6.1 amd64",
		"linux-image-6.12.12+bpo-cloud-amd64=6.12.12-1~bpo12+1 6.12 cloud-amd64",
		"linux-image-6.12.117+deb12-amd64=6.12.117-1~deb12u1 6.12 amd64",
	} // and no rt: the archive does not serve it
	if !slices.Equal(got, want) {
		t.Errorf("selected\n%q\nwant\n%q", got, want)
	}
}

func TestCopyVmlinuz(t *testing.T) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, f := range []struct{ name, body string }{
		{"./boot/config-6.1.0-9-amd64", "CONFIG_X86_64=y"},
		{"./boot/vmlinuz-6.1.0-9-amd64", "the image"},
		{"./lib/modules/6.1.0-9-amd64/vmlinuz-not-this", "a module"},
	} {
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(f.body))
	}
	tw.Close()
	dst := filepath.Join(t.TempDir(), "vmlinuz")
	if err := copyVmlinuz(tar.NewReader(bytes.NewReader(b.Bytes())), dst); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dst); string(got) != "the image" {
		t.Errorf("copied %q", got)
	}
	var empty bytes.Buffer
	tar.NewWriter(&empty).Close()
	if err := copyVmlinuz(tar.NewReader(&empty), dst+".2"); err == nil {
		t.Error("no error for a package without an image")
	}
}
