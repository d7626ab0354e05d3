package api

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Injection makes system calls fail, or return a chosen value, without
// running: strace's fault injection (-e inject=), done from outside the
// guest. At a matching call's entry the session replaces its number with
// an invalid one, so the kernel skips it, and at its exit it sets the
// return value; the exit shows " (INJECTED)" after the result, as strace
// shows it.
//
// Its text form (ParseInjection, String) is strace's,
//
//	SET:error=ERRNO[:when=EXPR]     openat:error=ENOENT:when=3+
//	SET:retval=VALUE[:when=EXPR]    write:retval=42
//
// with two additions of nitro's: pid=PID (in that process only) and
// count=N (disarm after N injections in all).
type Injection struct {
	// Names are the system calls it applies to, of either ABI: names as
	// strace prints them, or numbers. The session checks them against
	// the guest's calls when the injection is armed.
	Names []string
	// Not inverts the set (strace's leading "!"): every call but Names;
	// with no Names, every call (strace's "all").
	Not bool
	// Errno is the error the calls fail with: a name as strace prints it
	// ("ENOENT", checked by the session when armed) or a number from 1 to
	// 4095. When it is "", the calls return Retval instead.
	Errno string
	// Retval is what the calls return when Errno is "".
	Retval int64
	// When picks the invocations to inject, counted as strace counts
	// them: per system call and per thread.
	When When
	// PID limits the injection to one process (thread group); 0: all.
	PID int
	// Count disarms the injection once it has injected this many calls in
	// all; 0: never.
	Count int
}

// When is strace's when=FIRST[..LAST][+[STEP]]: of each thread's calls of
// each system call of the set, inject invocation FIRST, then every STEP-th
// after it, up to invocation LAST. The zero When is every invocation.
//
//	when=3      First 3               the third call only
//	when=3+     First 3, Step 1       the third and every one after
//	when=3+2    First 3, Step 2       the third, fifth, seventh...
//	when=3..5   First 3, Last 5, Step 1
type When struct {
	First int // from 1; 0: every invocation (Last and Step are then unused)
	Last  int // the last invocation to consider; 0: no end
	Step  int // 0: First only
}

// ArmedInjection is an injection a session has armed, and how many calls
// it has injected so far.
type ArmedInjection struct {
	Injection
	Injected uint64
}

// Limits of strace's when= (its counters are 16 bits wide).
const (
	maxWhen     = 65535
	maxWhenLast = 65534
	maxErrno    = 4095
)

// ErrBadInjection is wrapped by the errors of ParseInjection and Check.
var ErrBadInjection = errors.New("bad injection")

// ParseInjection reads an injection in strace's -e inject= syntax (see
// Injection). The names and an errno given by name are checked only when a
// session arms it: they depend on the guest.
func ParseInjection(spec string) (Injection, error) {
	bad := func(format string, a ...any) (Injection, error) {
		return Injection{}, fmt.Errorf("%w %q: %s", ErrBadInjection, spec, fmt.Sprintf(format, a...))
	}
	set, opts, _ := strings.Cut(spec, ":")
	var in Injection
	for strings.HasPrefix(set, "!") {
		in.Not, set = !in.Not, set[1:]
	}
	switch set {
	case "all": // strace's "all" is "!none"
		in.Not = !in.Not
	case "none", "":
	default:
		for name := range strings.SplitSeq(set, ",") {
			if name == "" {
				continue
			}
			if strings.ContainsAny(name, "%/?@") || name == "all" || name == "none" {
				return bad("%q: nitro takes system call names, numbers, all and a leading ! (not strace's classes, regular expressions, ? or @ suffixes)", name)
			}
			in.Names = append(in.Names, name)
		}
	}
	if len(in.Names) == 0 && !in.Not {
		return bad("the set %q selects no system call", set)
	}
	action := ""
	for tok := range strings.SplitSeq(opts, ":") {
		key, val, _ := strings.Cut(tok, "=")
		switch key {
		case "error", "retval":
			if action != "" {
				return bad("%s= after %s=: an injection has one error= or retval=", key, action)
			}
			action = key
			if key == "error" {
				if val == "" {
					return bad("error= needs an errno, e.g. error=ENOENT")
				}
				if n, err := strconv.Atoi(val); err == nil && (n < 1 || n > maxErrno) {
					return bad("error=%s: an errno number is from 1 to %d", val, maxErrno)
				}
				in.Errno = val
			} else {
				v, err := parseRetval(val)
				if err != nil {
					return bad("retval=%s: want an integer, e.g. retval=42", val)
				}
				in.Retval = v
			}
		case "when": // as in strace, the last when= counts
			w, err := parseWhen(val)
			if err != nil {
				return bad("when=%s: %v", val, err)
			}
			in.When = w
		case "pid", "count":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 {
				return bad("%s=%s: want a number from 1", key, val)
			}
			if key == "pid" {
				in.PID = n
			} else {
				in.Count = n
			}
		case "signal", "syscall", "delay_enter", "delay_exit", "poke_enter", "poke_exit":
			return bad("strace's %s= is not supported by nitro (it takes error=, retval=, when=, pid= and count=)", key)
		case "":
			if tok == "" {
				continue // strace skips empty options ("a::error=EIO")
			}
			return bad("an option without a name: %q", tok)
		default:
			return bad("unknown option %q (want error=, retval=, when=, pid= or count=)", tok)
		}
	}
	if action == "" {
		return bad("it needs error=ERRNO or retval=VALUE")
	}
	return in, nil
}

// parseRetval reads an integer as strace does (strtoull, base 0: 42,
// 0x2a, 052), and also a negative one.
func parseRetval(s string) (int64, error) {
	if v, err := strconv.ParseInt(s, 0, 64); err == nil {
		return v, nil
	}
	u, err := strconv.ParseUint(s, 0, 64)
	return int64(u), err
}

// parseWhen reads FIRST[..LAST][+[STEP]] as strace 6.1 does.
func parseWhen(s string) (When, error) {
	num := func(s string, lo, hi int) (int, error) {
		n, err := strconv.Atoi(s)
		if err != nil || n < lo || n > hi {
			return 0, fmt.Errorf("%q is not a number from %d to %d", s, lo, hi)
		}
		return n, nil
	}
	rng, step, plus := strings.Cut(s, "+")
	first, last, dots := strings.Cut(rng, "..")
	var w When
	var err error
	if w.First, err = num(first, 1, maxWhen); err != nil {
		return When{}, err
	}
	if dots {
		if w.Last, err = num(last, w.First, maxWhenLast); err != nil {
			return When{}, fmt.Errorf("the last invocation: %w", err)
		}
		w.Step = 1 // F..L is F..L+1
	}
	switch {
	case plus && step == "":
		w.Step = 1
	case plus:
		if w.Step, err = num(step, 1, maxWhen); err != nil {
			return When{}, fmt.Errorf("the step: %w", err)
		}
	}
	return w, nil
}

// Check says what is wrong with an injection made without ParseInjection;
// a parsed one passes.
func (in Injection) Check() error {
	bad := func(what string) error { return fmt.Errorf("%w %q: %s", ErrBadInjection, in.String(), what) }
	switch {
	case len(in.Names) == 0 && !in.Not:
		return bad("it names no system call")
	case in.PID < 0 || in.Count < 0:
		return bad("a negative pid or count")
	}
	for _, n := range in.Names {
		if n == "" {
			return bad("an empty system call name")
		}
	}
	if n, err := strconv.Atoi(in.Errno); err == nil && (n < 1 || n > maxErrno) {
		return bad("an errno number is from 1 to " + strconv.Itoa(maxErrno))
	}
	w := in.When
	switch {
	case w.First == 0:
	case w.First < 0 || w.First > maxWhen || w.Step < 0 || w.Step > maxWhen:
		return bad("when= out of range")
	case w.Last != 0 && (w.Last < w.First || w.Last > maxWhenLast || w.Step == 0):
		return bad("when= has a bad last invocation")
	}
	return nil
}

// String is the injection in the syntax ParseInjection reads.
func (in Injection) String() string {
	var b strings.Builder
	if in.Not {
		if len(in.Names) == 0 {
			b.WriteString("all")
		} else {
			b.WriteByte('!')
		}
	}
	b.WriteString(strings.Join(in.Names, ","))
	if in.Errno != "" {
		b.WriteString(":error=" + in.Errno)
	} else {
		b.WriteString(":retval=" + strconv.FormatInt(in.Retval, 10))
	}
	if w := in.When.String(); w != "" {
		b.WriteString(":when=" + w)
	}
	if in.PID != 0 {
		b.WriteString(":pid=" + strconv.Itoa(in.PID))
	}
	if in.Count != 0 {
		b.WriteString(":count=" + strconv.Itoa(in.Count))
	}
	return b.String()
}

// String is w as when= reads it; "" for every invocation.
func (w When) String() string {
	if w.First == 0 {
		return ""
	}
	s := strconv.Itoa(w.First)
	if w.Last != 0 {
		s += ".." + strconv.Itoa(w.Last)
		if w.Step != 1 {
			s += "+" + strconv.Itoa(w.Step)
		}
		return s
	}
	switch w.Step {
	case 0:
		return s
	case 1:
		return s + "+"
	}
	return s + "+" + strconv.Itoa(w.Step)
}
