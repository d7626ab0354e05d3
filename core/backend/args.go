package backend

// ArgumentMap reads and modifies the arguments of a system call while its
// vCPU is stopped, the seed's ArgumentMap. Changes made at entry are what
// the kernel then executes.
type ArgumentMap interface {
	// Len is the number of arguments the call takes (6 when unknown).
	Len() int
	// Shown is the argument (0 to Len()-1) whose value the decoded call's
	// Args[i] shows, or -1 when it shows none (a value read from memory).
	// It is i but where the decoder shows arguments in another order than
	// the call takes them (Linux's clone, as strace prints it). The other
	// methods take the argument's own index.
	Shown(i int) int
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
	// Use says what the call does with the memory argument i points to.
	Use(i int) ArgUse
	// WriteString writes s and its terminating NUL as the C string
	// argument i points to (an api.ArgString: a path, a name). They go
	// where the string is when it has room for them (its length and NUL,
	// in memory the process may write); else, so as never to overwrite
	// what follows, to free memory of the process (below its user stack's
	// red zone, unused during a system call), and argument i then points
	// there, which only an entry allows.
	WriteString(i int, s []byte) error
	// WriteBuffer writes b as the data argument i points to, an
	// api.ArgBuffer or api.ArgMemory, within the count its size argument
	// holds. With setLen (an ArgBuffer at an entry only) the count becomes
	// len(b), and a b longer than the old count goes to free memory as in
	// WriteString.
	WriteBuffer(i int, b []byte, setLen bool) error
	// SetNumber changes the number of the call about to run (at an entry
	// only): the kernel runs that call instead, or none for an invalid
	// number such as ^uint64(0), leaving the return value as it was.
	SetNumber(nr uint64) error
	// SetReturn changes the value the call returns to the process (at an
	// exit only). The back end's Redecode shows it.
	SetReturn(v uint64) error
}

// Call is a system call whose vCPU is still stopped: hooks see the decoded
// Syscall and may change the call through Arguments.
type Call struct {
	Syscall
	Arguments ArgumentMap
}
