package vmi

import (
	"errors"
	"fmt"
)

// ErrNotWritable is returned by UserWritable for a page user code may not
// write.
var ErrNotWritable = errors.New("page not writable by the process")

// UserWritable checks that the process owning the space could write
// [va, va+n) itself: every page present, and user and writable at every
// level of its walk. Write ignores protection, as a debugger does, but it
// writes the frame itself, where a debugger's write into a read-only page
// gets the process its own copy: a page mapped read-only may be a file's
// page cache or shared copy-on-write since a fork, and writing its frame
// would change it for every process that maps it.
func (s Space) UserWritable(va uint64, n int) error {
	for off := 0; off < n; {
		addr := va + uint64(off)
		_, perm, err := walk(s.mem.entry, s.cr3, s.la57, addr)
		if err != nil {
			return err
		}
		if perm&(pteWritable|pteUser) != pteWritable|pteUser {
			return fmt.Errorf("%#x: %w", addr, ErrNotWritable)
		}
		off += pageSize - int(addr&pageMask)
	}
	return nil
}
