package api

import "nitro/internal/escape"

// Form is how much of a call one line shows. strace -f shows a call whose
// exit comes right after its entry as one line, and otherwise splits it in
// two: the entry unfinished, the exit resumed.
type Form uint8

const (
	// Whole is name(args) = ret: an exit shown with its entry, or the
	// entry of a call that never returns.
	Whole Form = iota
	// Unfinished is an entry whose exit is still to come.
	Unfinished
	// Resumed is an exit whose entry was shown unfinished, or never seen.
	Resumed
)

// AppendCall appends the call's text in form f, as strace prints it:
//
//	openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3     Whole
//	read(0,  <unfinished ...>                           Unfinished: the arguments before the first Out one
//	<... read resumed>"hi\n", 128) = 3                  Resumed: that one and those after it
//	close(3 <unfinished ...>                            Unfinished: a call that writes none
//	<... close resumed>) = 0                            Resumed
//	i386:open("/etc/hostname", O_RDONLY) = 3            a 32-bit call
//
// The unfinished and resumed parts of a call joined (without the marks)
// read as the whole call.
//
// Every face renders calls through it (with AppendHead and AppendTail), so
// a call reads the same in the TUI, in text and in JSON.
func AppendCall(b []byte, sc *Syscall, f Form) []byte {
	return AppendTail(AppendHead(b, sc, f), sc, f)
}

// CallText is AppendCall as a string.
func CallText(sc *Syscall, f Form) string { return string(AppendCall(nil, sc, f)) }

// AppendHead appends the part of the call's text a narrow screen may cut:
// the name and arguments, or the resumed mark.
func AppendHead(b []byte, sc *Syscall, f Form) []byte {
	if sc.ABI != X8664 {
		// The numbers and the meaning of the arguments differ: say so.
		b = append(b, sc.ABI.String()...)
		b = append(b, ':')
	}
	out := len(sc.Args)
	if f != Whole {
		out = firstOut(sc.Args)
	}
	if f == Resumed {
		b = append(b, "<... "...)
		b = append(b, Safe(sc.Name)...)
		b = append(b, " resumed>"...)
		b = appendArgs(b, sc.Args[out:])
		return append(b, ')')
	}
	b = append(b, Safe(sc.Name)...)
	b = append(b, '(')
	b = appendArgs(b, sc.Args[:out])
	switch {
	case f == Whole:
		b = append(b, ')')
	case out > 0 && out < len(sc.Args):
		b = append(b, ", "...) // strace's: the resumed part goes on from here
	}
	return b
}

// firstOut is the index of the first argument the call writes, or
// len(args): where strace splits a call's text between entry and exit.
func firstOut(args []Arg) int {
	for i, a := range args {
		if a.Out {
			return i
		}
	}
	return len(args)
}

func appendArgs(b []byte, args []Arg) []byte {
	for i, a := range args {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, Safe(a.Text)...)
	}
	return b
}

// AppendTail appends the outcome: " = ret", or the unfinished mark.
func AppendTail(b []byte, sc *Syscall, f Form) []byte {
	if f == Unfinished {
		if firstOut(sc.Args) > 0 {
			b = append(b, ' ')
		}
		return append(b, "<unfinished ...>"...)
	}
	if sc.RetText == "" {
		return b
	}
	b = append(b, " = "...)
	return append(b, Safe(sc.RetText)...)
}

// Safe returns text that should be terminal-safe already (the back end
// escapes what it decodes) unchanged, and escapes it if a back end broke
// that promise: a bad decoder must not reach the terminal either.
func Safe(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return escape.String(s)
		}
	}
	return s
}
