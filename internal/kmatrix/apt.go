package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// kernel is one image package of the matrix.
type kernel struct {
	pkg, version string // the package and the version apt would download
	abi          string // e.g. 6.1.0-47 or 6.12.117+deb12
	series       string // 6.1 or 6.12
	flavour      string // amd64, cloud-amd64 or rt-amd64
	vmlinuz      string // the unpacked image, in the cache
}

// imageName matches the image packages of the matrix's series and
// flavours. Meta-packages (linux-image-6.12-amd64) and debug symbols do
// not match: they hold no vmlinuz.
var imageName = regexp.MustCompile(`^linux-image-((6\.1|6\.12)\.[0-9][^-]*(?:-[0-9]+)?)-(amd64|cloud-amd64|rt-amd64)(-unsigned)?$`)

// listKernels asks apt which image packages its archive serves, after
// fetching its package lists if it knows none yet.
func listKernels() ([]kernel, error) {
	names, err := searchImages()
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		if err := runLogged("", "apt-get", "update"); err != nil {
			return nil, err
		}
		if names, err = searchImages(); err != nil {
			return nil, err
		}
	}
	if len(names) == 0 {
		return nil, errors.New("apt knows no linux-image-6.1* or linux-image-6.12* package")
	}
	out, err := exec.Command("apt-cache", append([]string{"policy"}, names...)...).Output()
	if err != nil {
		return nil, fmt.Errorf("apt-cache policy: %w", err)
	}
	return selectKernels(names, parsePolicy(out)), nil
}

func searchImages() ([]string, error) {
	out, err := exec.Command("apt-cache", "search", "--names-only", `^linux-image-6\.(1|12)\.`).Output()
	if err != nil {
		return nil, fmt.Errorf("apt-cache search: %w", err)
	}
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if name, _, _ := strings.Cut(sc.Text(), " "); imageName.MatchString(name) {
			names = append(names, name)
		}
	}
	return names, sc.Err()
}

// parsePolicy reads each package's candidate version from apt-cache
// policy's output; packages without one ("(none)") are left out.
func parsePolicy(out []byte) map[string]string {
	cands := map[string]string{}
	pkg := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if name, ok := strings.CutSuffix(line, ":"); ok && !strings.HasPrefix(line, " ") {
			pkg = name
			continue
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Candidate: "); ok && pkg != "" && v != "(none)" {
			cands[pkg] = v
		}
	}
	return cands
}

// selectKernels keeps one package per kernel build and flavour: the
// signed image, or the unsigned one where the archive has no signed one.
// They come sorted by series, build and flavour.
func selectKernels(names []string, cands map[string]string) []kernel {
	byBuild := map[string]kernel{}
	for _, name := range names {
		m := imageName.FindStringSubmatch(name)
		v, ok := cands[name]
		if m == nil || !ok {
			continue
		}
		k := kernel{pkg: name, version: v, abi: m[1], series: m[2], flavour: m[3]}
		key := k.abi + "-" + k.flavour
		if old, seen := byBuild[key]; !seen || strings.HasSuffix(old.pkg, "-unsigned") {
			byBuild[key] = k
		}
	}
	var ks []kernel
	for _, k := range byBuild {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(a, b kernel) int {
		return cmp.Or(naturalCompare(a.abi, b.abi), strings.Compare(a.flavour, b.flavour))
	})
	return ks
}

// naturalCompare orders strings with their runs of digits compared as
// numbers, so that 6.1.0-9 comes before 6.1.0-10 and 6.1 before 6.12.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			x, _ := strconv.ParseUint(a[:da], 10, 64)
			y, _ := strconv.ParseUint(b[:db], 10, 64)
			if c := cmp.Compare(x, y); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if c := cmp.Compare(a[0], b[0]); c != 0 {
			return c
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// fetch makes sure each kernel's vmlinuz is in the cache: what is missing
// is downloaded in one apt-get call, its image unpacked, and the package
// removed again.
func fetch(cache string, ks []kernel) error {
	imgDir, debDir := filepath.Join(cache, "vmlinuz"), filepath.Join(cache, "debs")
	for _, dir := range []string{imgDir, debDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	var missing []*kernel
	for i := range ks {
		k := &ks[i]
		k.vmlinuz = filepath.Join(imgDir, k.pkg+"_"+k.version)
		if _, err := os.Stat(k.vmlinuz); err != nil {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	args := []string{"download"}
	for _, k := range missing {
		if _, err := os.Stat(filepath.Join(debDir, debName(k))); err != nil {
			args = append(args, k.pkg+"="+k.version)
		}
	}
	if len(args) > 1 {
		if err := runLogged(debDir, "apt-get", args...); err != nil {
			return err
		}
	}
	for _, k := range missing {
		deb := filepath.Join(debDir, debName(k))
		if err := extractVmlinuz(deb, k.vmlinuz); err != nil {
			return err
		}
		if err := os.Remove(deb); err != nil {
			return err
		}
	}
	return nil
}

// debName is the file apt-get download writes for k.
func debName(k *kernel) string {
	return k.pkg + "_" + strings.ReplaceAll(k.version, ":", "%3a") + "_amd64.deb"
}

// extractVmlinuz copies boot/vmlinuz-* out of a .deb into dst. The image
// comes first in the package, so reading stops there rather than
// decompressing the modules too.
func extractVmlinuz(deb, dst string) error {
	cmd := exec.Command("dpkg-deb", "--fsys-tarfile", deb)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	err = copyVmlinuz(tar.NewReader(out), dst)
	// Closing the pipe early makes dpkg-deb's writer die of SIGPIPE: its
	// exit status only matters when the image was not found.
	out.Close()
	if werr := cmd.Wait(); err != nil && werr != nil {
		err = fmt.Errorf("%w (dpkg-deb: %v %s)", err, werr, bytes.TrimSpace(stderr.Bytes()))
	}
	if err != nil {
		return fmt.Errorf("unpacking %s: %w", deb, err)
	}
	return nil
}

func copyVmlinuz(tr *tar.Reader, dst string) error {
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return errors.New("no boot/vmlinuz-* in the package")
		}
		if err != nil {
			return err
		}
		if h.Typeflag == tar.TypeReg && path.Clean(path.Dir(h.Name)) == "boot" && strings.HasPrefix(path.Base(h.Name), "vmlinuz-") {
			return writeFile(dst, tr)
		}
	}
}

// writeFile writes r to path through a temporary file, so that an
// interrupted run leaves no truncated image in the cache.
func writeFile(path string, r io.Reader) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".vmlinuz-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// runLogged runs a command in dir with its output on stderr, so the
// report on stdout stays clean.
func runLogged(dir, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, args[0], err)
	}
	return nil
}
