package traceformat_test

import (
	"errors"
	"os"

	"nitro/api"
	"nitro/core/backend/linux/strace"
	"nitro/internal/traceformat"
)

// page is one page of guest memory mapped at 0x1000; the rest is unmapped.
type page [4096]byte

func (pg *page) ReadVirt(p []byte, va uint64) error {
	if va < 0x1000 || va-0x1000+uint64(len(p)) > uint64(len(pg)) {
		return errors.New("unmapped")
	}
	copy(p, pg[va-0x1000:])
	return nil
}

// The probe's first call, decoded at entry and exit and written as text.
func Example() {
	mem := new(page)
	copy(mem[:], "/etc/hostname\x00")
	d := strace.NewDecoder(strace.Options{})
	args := [6]uint64{0xffffffffffffff9c, 0x1000, 0} // AT_FDCWD, path, O_RDONLY
	proc := api.Process{PID: 42, TID: 42, PPID: 1, Comm: "cat"}
	w := traceformat.NewText(os.Stdout)

	enter := api.Syscall{Seq: 1, Direction: api.Enter, Process: proc}
	d.Enter(&enter, 257, args, mem)
	exit := api.Syscall{Seq: 2, Direction: api.Exit, Process: proc, Matched: true}
	d.Exit(&exit, 257, args, 3, mem, enter.Args)
	exit.RetText = strace.Result(&exit) // as the back end renders it
	for _, sc := range []*api.Syscall{&enter, &exit} {
		if err := w.Write(sc); err != nil {
			panic(err)
		}
	}
	// The entry waits for its exit: one call, one line.
	// Output:
	// [42 cat] openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3
}
