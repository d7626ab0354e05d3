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
	// SetNumber changes the number of the call about to run (at an entry
	// only): the kernel runs that call instead, or none for an invalid
	// number such as ^uint64(0), leaving the return value as it was.
	SetNumber(nr uint64) error
	// SetReturn changes the value the call returns to the process (at an
	// exit only).
	SetReturn(v uint64) error
}

// Call is a system call whose vCPU is still stopped: hooks see the decoded
// Syscall and may change the call through Arguments.
type Call struct {
	Syscall
	Arguments ArgumentMap
}
