package triage

// Env is what a rule's condition sees of one call: the fields, named as
// Falco names its own, a condition may use. Strings from the guest are
// raw here (a path as the guest wrote it); findings escape them. Its
// parts point at the engine's own, which it fills in place for each call.
type Env struct {
	Evt  *Evt  `expr:"evt"`
	Proc *Proc `expr:"proc"`
	FD   *FD   `expr:"fd"`
	FS   *FS   `expr:"fs"`
	User *User `expr:"user"`
}

// Evt is the call itself.
type Evt struct {
	Type   string   `expr:"type"`   // the call's name: "openat"; an i386 call's i386 name
	ABI    string   `expr:"abi"`    // "x86_64" or "i386"
	Num    uint64   `expr:"num"`    // its seq
	Res    string   `expr:"res"`    // "SUCCESS", or the errno's name ("ENOENT")
	RawRes int64    `expr:"rawres"` // the return value
	Failed bool     `expr:"failed"` // the call returned an error
	Args   string   `expr:"args"`   // the arguments as strace shows them
	Arg    []string `expr:"arg"`    // each argument's text, as strace shows it
	RawArg []int64  `expr:"rawarg"` // each argument's register value, signed (AT_FDCWD is -100)
	// IsOpenWrite: an open or creat asking to write, create or truncate.
	IsOpenWrite bool `expr:"is_open_write"`
}

// Proc is the process making the call, with what nitro saw of it before.
type Proc struct {
	Name    string `expr:"name"` // its comm (after an exec, the new program's)
	PID     int    `expr:"pid"`
	TID     int    `expr:"tid"`
	PPID    int    `expr:"ppid"`
	PName   string `expr:"pname"`   // the parent's comm, "" if unknown
	ExePath string `expr:"exepath"` // the program its last exec ran, "" if unseen
	// Cmdline is the argv of its last exec as strace shows it.
	Cmdline string `expr:"cmdline"`
	// IsExeFromMemfd: the program was exec'd from a memfd (fileless).
	IsExeFromMemfd bool `expr:"is_exe_from_memfd"`
	// IsExeDeleted: the program was exec'd from a file deleted before.
	IsExeDeleted bool `expr:"is_exe_deleted"`
}

// FD is the file or socket the call works on: the path it names, the
// descriptor it passes (as its open, socket or accept made it), or the one
// it returns.
type FD struct {
	Num  int64  `expr:"num"`  // -1 when none
	Name string `expr:"name"` // a path, "memfd:NAME", "ADDR:PORT", a unix socket's path
	// Type is "file", "memfd", "ipv4", "ipv6", "unix", another socket
	// family in lower case, or "" when unknown.
	Type  string `expr:"type"`
	RIP   string `expr:"rip"`   // a connect's or accept's peer address
	RPort int    `expr:"rport"` // and port
	// RIPLocal: the peer is loopback, private (RFC 1918, ULA), link-local
	// or unspecified: not out of the guest's site.
	RIPLocal bool `expr:"rip_local"`
}

// FS gives the paths of calls that name two: rename, link.
type FS struct {
	Path *FSPath `expr:"path"`
}

// FSPath is a call's paths.
type FSPath struct {
	Name   string `expr:"name"`   // the path a call names (its first)
	Source string `expr:"source"` // rename's and link's old path
	Target string `expr:"target"` // rename's and link's new path
}

// User is who made the call.
type User struct {
	UID uint32 `expr:"uid"` // the real uid at the call's entry
}
