package ksym

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"nitro/internal/escape"
)

// ErrHiddenAddresses is returned for a /proc/kallsyms read without the
// privilege to see addresses (kptr_restrict prints them all as zero).
var ErrHiddenAddresses = errors.New("symbol addresses are hidden (kptr_restrict): read /proc/kallsyms as root")

// maxLineLen bounds one line of a symbol map.
const maxLineLen = 4096

// ParseSystemMap reads a System.map or /proc/kallsyms: lines of
// "<hex address> <type letter> <name>", optionally followed by
// "\t[module]", names escaped as WriteKallsyms writes them. Module
// symbols are skipped: the table describes the kernel image. Addresses are
// the file's: link-time for a System.map, run-time for the /proc/kallsyms
// of a running guest. A symbol map does not know the physical load address.
func ParseSystemMap(r io.Reader) (*Table, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, maxLineLen), maxLineLen)
	var syms []Symbol
	allZero := true
	for line := 1; sc.Scan(); line++ {
		fields := bytes.Fields(sc.Bytes())
		if len(fields) == 0 {
			continue
		}
		if len(fields) < 3 || len(fields[1]) != 1 || !isTypeLetter(fields[1][0]) {
			return nil, fmt.Errorf("symbol map line %d: want \"<address> <type> <name>\", got %q", line, sc.Bytes())
		}
		if len(fields) > 3 {
			continue // "[module]"
		}
		addr, err := strconv.ParseUint(string(fields[0]), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("symbol map line %d: %w", line, err)
		}
		if len(syms) == maxSymbols {
			return nil, fmt.Errorf("symbol map: more than %d symbols", maxSymbols)
		}
		// Names are unescaped as WriteKallsyms escapes them; a raw control
		// byte is no real kernel's and is refused.
		name, err := escape.Unescape(string(fields[2]))
		if err != nil {
			return nil, fmt.Errorf("symbol map line %d: name %q: %w", line, fields[2], err)
		}
		allZero = allZero && addr == 0
		syms = append(syms, Symbol{Name: name, Addr: addr, Type: fields[1][0]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading symbol map: %w", err)
	}
	if len(syms) == 0 {
		return nil, fmt.Errorf("symbol map: %w", ErrNotFound)
	}
	if allZero {
		return nil, ErrHiddenAddresses
	}
	return newTable(syms), nil
}
