package backend

// ArgumentMap reads and modifies the arguments of a system call while its
// vCPU is stopped, the seed's ArgumentMap. Changes made at entry are what
// the kernel then executes.
type ArgumentMap interface {
	// Len is the number of arguments the call takes (6 when unknown).
	Len() int
	// Get returns argument i's raw value.
	Get(i int) uint64
	// Set changes argument i's raw value.
	Set(i int, v uint64) error
	// ReadBytes reads n bytes of guest user memory at the address held in
	// argument i.
	ReadBytes(i, n int) ([]byte, error)
	// WriteBytes overwrites guest user memory at the address held in
	// argument i, e.g. to change a path in place.
	WriteBytes(i int, b []byte) error
}

// Call is a system call whose vCPU is still stopped: hooks see the decoded
// Syscall and may change the call through Arguments.
type Call struct {
	Syscall
	Arguments ArgumentMap
}
