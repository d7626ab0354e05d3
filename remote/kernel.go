package remote

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"nitro/api"
)

// MaxFile bounds a kernel file that an attach or inspect carries: a
// System.map, /proc/kallsyms, a vmlinuz or an ISF file fits; both files,
// base64 in one line, stay under MaxLine.
const MaxFile = 20 << 20

// KernelFiles are the contents of the files given on the near side
// (--symbols, --profile), which the far nitro uses instead of what it finds
// in guest memory: it is sent the bytes, never a path of the near host.
type KernelFiles struct {
	Symbols []byte `json:"symbols,omitempty"`
	Profile []byte `json:"profile,omitempty"`
}

// ReadKernelFiles reads the files named by the --symbols and --profile
// flags ("" for none); nil when neither is given.
func ReadKernelFiles(symbols, profile string) (*KernelFiles, error) {
	if symbols == "" && profile == "" {
		return nil, nil
	}
	var k KernelFiles
	var err error
	if k.Symbols, err = readBounded("--symbols", symbols); err != nil {
		return nil, err
	}
	if k.Profile, err = readBounded("--profile", profile); err != nil {
		return nil, err
	}
	return &k, nil
}

// readBounded reads path whole, refusing one larger than MaxFile.
func readBounded(flag, path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", flag, path, err)
	}
	if len(b) > MaxFile {
		return nil, fmt.Errorf("%s %s: more than %d MiB, %w (a System.map or /proc/kallsyms is a few MiB)",
			flag, path, MaxFile>>20, ErrFileTooBig)
	}
	return b, nil
}

// KernelFiler is a hypervisor that can read guests' kernels from files
// instead of guest memory: the agent's, for the files a client sends.
type KernelFiler interface {
	// WithKernel is a hypervisor like this one that takes the kernel's
	// symbols and structure offsets from these files of this host; ""
	// leaves that one as it was.
	WithKernel(symbols, profile string) api.Hypervisor
}

// withKernel runs use on a hypervisor that reads the files k carries,
// written for it to a directory of the agent's own, removed when use
// returns (attach and inspect read them whole); on h itself for nil.
func withKernel[T any](h api.Hypervisor, k *KernelFiles, use func(api.Hypervisor) (T, error)) (T, error) {
	var zero T
	if k == nil || len(k.Symbols) == 0 && len(k.Profile) == 0 {
		return use(h)
	}
	kf, ok := h.(KernelFiler)
	if !ok {
		return zero, fmt.Errorf("%w: this nitro cannot read a kernel from files", api.ErrNotSupported)
	}
	dir, err := os.MkdirTemp("", "nitro-kernel-")
	if err != nil {
		return zero, fmt.Errorf("keeping the kernel files sent: %w", err)
	}
	defer os.RemoveAll(dir)
	write := func(name string, b []byte) (string, error) {
		if len(b) == 0 {
			return "", nil
		}
		path := filepath.Join(dir, name)
		return path, os.WriteFile(path, b, 0o600)
	}
	symbols, serr := write("symbols", k.Symbols)
	profile, perr := write("profile", k.Profile)
	if err := errors.Join(serr, perr); err != nil {
		return zero, fmt.Errorf("keeping the kernel files sent: %w", err)
	}
	return use(kf.WithKernel(symbols, profile))
}
