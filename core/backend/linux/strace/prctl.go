package strace

import (
	"encoding/binary"
	"strconv"
)

// prctl's options (include/uapi/linux/prctl.h) that strace decodes apart
// from showing every argument in hex.
const (
	prSetPdeathsig           = 1
	prGetPdeathsig           = 2
	prGetDumpable            = 3
	prSetDumpable            = 4
	prGetUnalign             = 5
	prSetUnalign             = 6
	prGetKeepcaps            = 7
	prSetKeepcaps            = 8
	prGetFpemu               = 9
	prSetFpemu               = 10
	prGetFpexc               = 11
	prSetFpexc               = 12
	prGetTiming              = 13
	prSetTiming              = 14
	prSetName                = 15
	prGetName                = 16
	prGetEndian              = 19
	prSetEndian              = 20
	prGetSeccomp             = 21
	prSetSeccomp             = 22
	prCapbsetRead            = 23
	prCapbsetDrop            = 24
	prGetTsc                 = 25
	prSetTsc                 = 26
	prGetSecurebits          = 27
	prSetSecurebits          = 28
	prSetTimerslack          = 29
	prGetTimerslack          = 30
	prTaskPerfEventsDisable  = 31
	prTaskPerfEventsEnable   = 32
	prMceKill                = 33
	prMceKillGet             = 34
	prSetMm                  = 35
	prSetChildSubreaper      = 36
	prGetChildSubreaper      = 37
	prSetNoNewPrivs          = 38
	prGetTidAddress          = 40
	prSetThpDisable          = 41
	prSetFpMode              = 45
	prGetFpMode              = 46
	prCapAmbient             = 47
	prSveSetVl               = 50
	prSveGetVl               = 51
	prGetSpeculationCtrl     = 52
	prSetSpeculationCtrl     = 53
	prPacResetKeys           = 54
	prSetTaggedAddrCtrl      = 55
	prGetTaggedAddrCtrl      = 56
	prSetIoFlusher           = 57
	prSetSyscallUserDispatch = 59
	prPacSetEnabledKeys      = 60
	prPacGetEnabledKeys      = 61
	prSchedCore              = 62
	prSmeSetVl               = 63
	prSmeGetVl               = 64
	prSetVma                 = 0x53564d41
	prSetPtracer             = 0x59616d61

	prMceKillSet         = 1
	prSetVmaAnonName     = 0
	prSchedCoreGet       = 0
	seccompModeStrict    = 1
	seccompModeFilter    = 2
	prSpecL1DFlush       = 2 // the last of the PR_SPEC_ controls that take flags
	prCapAmbientLower    = 3 // IS_SET, RAISE and LOWER take a capability
	prVLLenMask          = 0xffff
	prTaggedAddrEnable   = 1
	prMteTcfMask         = 6
	prMteTagShift        = 3
	prMteTagMask         = 0xffff << prMteTagShift
	taskCommLen          = 16  // a task's name, its NUL included
	prSetPdeathsigMaxSig = 128 // strace names a larger value as a number, not a signal
)

var prctlOptions = []string{
	1: "PR_SET_PDEATHSIG", "PR_GET_PDEATHSIG", "PR_GET_DUMPABLE", "PR_SET_DUMPABLE",
	"PR_GET_UNALIGN", "PR_SET_UNALIGN", "PR_GET_KEEPCAPS", "PR_SET_KEEPCAPS",
	"PR_GET_FPEMU", "PR_SET_FPEMU", "PR_GET_FPEXC", "PR_SET_FPEXC", "PR_GET_TIMING",
	"PR_SET_TIMING", "PR_SET_NAME", "PR_GET_NAME",
	19: "PR_GET_ENDIAN", "PR_SET_ENDIAN", "PR_GET_SECCOMP", "PR_SET_SECCOMP",
	"PR_CAPBSET_READ", "PR_CAPBSET_DROP", "PR_GET_TSC", "PR_SET_TSC",
	"PR_GET_SECUREBITS", "PR_SET_SECUREBITS", "PR_SET_TIMERSLACK",
	"PR_GET_TIMERSLACK", "PR_TASK_PERF_EVENTS_DISABLE",
	"PR_TASK_PERF_EVENTS_ENABLE", "PR_MCE_KILL", "PR_MCE_KILL_GET", "PR_SET_MM",
	"PR_SET_CHILD_SUBREAPER", "PR_GET_CHILD_SUBREAPER", "PR_SET_NO_NEW_PRIVS",
	"PR_GET_NO_NEW_PRIVS", "PR_GET_TID_ADDRESS", "PR_SET_THP_DISABLE",
	"PR_GET_THP_DISABLE", "PR_MPX_ENABLE_MANAGEMENT", "PR_MPX_DISABLE_MANAGEMENT",
	"PR_SET_FP_MODE", "PR_GET_FP_MODE", "PR_CAP_AMBIENT",
	50: "PR_SVE_SET_VL", "PR_SVE_GET_VL", "PR_GET_SPECULATION_CTRL",
	"PR_SET_SPECULATION_CTRL", "PR_PAC_RESET_KEYS", "PR_SET_TAGGED_ADDR_CTRL",
	"PR_GET_TAGGED_ADDR_CTRL", "PR_SET_IO_FLUSHER", "PR_GET_IO_FLUSHER",
	"PR_SET_SYSCALL_USER_DISPATCH", "PR_PAC_SET_ENABLED_KEYS",
	"PR_PAC_GET_ENABLED_KEYS", "PR_SCHED_CORE", "PR_SME_SET_VL", "PR_SME_GET_VL",
}

var (
	prDumpables     = []string{"SUID_DUMP_DISABLE", "SUID_DUMP_USER", "SUID_DUMP_ROOT"}
	prMceKills      = []string{"PR_MCE_KILL_CLEAR", "PR_MCE_KILL_SET"}
	prMceKillPolicy = []string{"PR_MCE_KILL_LATE", "PR_MCE_KILL_EARLY", "PR_MCE_KILL_DEFAULT"}
	prCapAmbients   = []string{1: "PR_CAP_AMBIENT_IS_SET", "PR_CAP_AMBIENT_RAISE", "PR_CAP_AMBIENT_LOWER", "PR_CAP_AMBIENT_CLEAR_ALL"}
	prSetMms        = []string{
		1: "PR_SET_MM_START_CODE", "PR_SET_MM_END_CODE", "PR_SET_MM_START_DATA",
		"PR_SET_MM_END_DATA", "PR_SET_MM_START_STACK", "PR_SET_MM_START_BRK",
		"PR_SET_MM_BRK", "PR_SET_MM_ARG_START", "PR_SET_MM_ARG_END",
		"PR_SET_MM_ENV_START", "PR_SET_MM_ENV_END", "PR_SET_MM_AUXV",
		"PR_SET_MM_EXE_FILE", "PR_SET_MM_MAP", "PR_SET_MM_MAP_SIZE",
	}
	prSetVmas       = []string{"PR_SET_VMA_ANON_NAME"}
	prTscs          = []string{1: "PR_TSC_ENABLE", "PR_TSC_SIGSEGV"}
	prSpecCmds      = []string{"PR_SPEC_STORE_BYPASS", "PR_SPEC_INDIRECT_BRANCH", "PR_SPEC_L1D_FLUSH"}
	prSudCmds       = []string{"PR_SYS_DISPATCH_OFF", "PR_SYS_DISPATCH_ON"}
	prSchedCoreCmds = []string{"PR_SCHED_CORE_GET", "PR_SCHED_CORE_CREATE", "PR_SCHED_CORE_SHARE_TO", "PR_SCHED_CORE_SHARE_FROM"}
	prPidTypes      = []string{"PIDTYPE_PID", "PIDTYPE_TGID", "PIDTYPE_PGID", "PIDTYPE_SID"}
	seccompModes    = []string{"SECCOMP_MODE_DISABLED", "SECCOMP_MODE_STRICT", "SECCOMP_MODE_FILTER"}
	prMteTcfs       = []string{0: "PR_MTE_TCF_NONE", 2: "PR_MTE_TCF_SYNC", 4: "PR_MTE_TCF_ASYNC", 6: "PR_MTE_TCF_MASK"}

	prUnalignFlags = []flag{{1, "PR_UNALIGN_NOPRINT"}, {2, "PR_UNALIGN_SIGBUS"}}
	prFpModes      = []flag{{1, "PR_FP_MODE_FR"}, {2, "PR_FP_MODE_FRE"}}
	prSveVLFlags   = []flag{{1 << 18, "PR_SVE_SET_VL_ONEXEC"}, {1 << 17, "PR_SVE_VL_INHERIT"}}
	prSmeVLFlags   = []flag{{1 << 18, "PR_SME_SET_VL_ONEXEC"}, {1 << 17, "PR_SME_VL_INHERIT"}}
	// The PR_SPEC_ values a control is set to, looked up as values.
	prSpecSetFlags = []flag{{1 << 1, "PR_SPEC_ENABLE"}, {1 << 2, "PR_SPEC_DISABLE"}, {1 << 3, "PR_SPEC_FORCE_DISABLE"}, {1 << 4, "PR_SPEC_DISABLE_NOEXEC"}}
	prSpecGetFlags = append([]flag{{1 << 0, "PR_SPEC_PRCTL"}}, prSpecSetFlags...)
	// prPacKeys are strace's pr_pac_enabled_keys then pr_pac_keys.
	prPacKeys        = []flag{{1 << 0, "PR_PAC_APIAKEY"}, {1 << 1, "PR_PAC_APIBKEY"}, {1 << 2, "PR_PAC_APDAKEY"}, {1 << 3, "PR_PAC_APDBKEY"}, {1 << 4, "PR_PAC_APGAKEY"}}
	prPacEnabledKeys = prPacKeys[:4]
	secbits          = []flag{
		{1 << 0, "SECBIT_NOROOT"}, {1 << 1, "SECBIT_NOROOT_LOCKED"},
		{1 << 2, "SECBIT_NO_SETUID_FIXUP"}, {1 << 3, "SECBIT_NO_SETUID_FIXUP_LOCKED"},
		{1 << 4, "SECBIT_KEEP_CAPS"}, {1 << 5, "SECBIT_KEEP_CAPS_LOCKED"},
		{1 << 6, "SECBIT_NO_CAP_AMBIENT_RAISE"}, {1 << 7, "SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED"},
	}
)

var capabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

func appendPrctlOption(dst []byte, opt uint32) []byte {
	switch opt {
	case prSetVma:
		return append(dst, "PR_SET_VMA"...)
	case prSetPtracer:
		return append(dst, "PR_SET_PTRACER"...)
	}
	return appendXval(dst, uint64(opt), prctlOptions, "PR_???")
}

// prctlShown is how many of its five arguments strace shows for prctl's
// option opt: those the option reads (or writes), or all of them, in hex,
// for the options it does not know.
func prctlShown(opt uint32, arg2 uint64) int {
	switch opt {
	case prGetKeepcaps, prGetSeccomp, prGetTimerslack, prGetTiming, prTaskPerfEventsDisable,
		prTaskPerfEventsEnable, prGetDumpable, prGetSecurebits, prGetFpMode, prSveGetVl, prSmeGetVl:
		return 1
	case prGetChildSubreaper, prGetEndian, prGetFpemu, prGetFpexc, prGetName, prGetPdeathsig,
		prGetTidAddress, prGetTsc, prGetUnalign, prSveSetVl, prSmeSetVl, prGetSpeculationCtrl,
		prSetChildSubreaper, prSetEndian, prSetFpemu, prSetFpexc, prSetKeepcaps, prSetTiming,
		prSetDumpable, prCapbsetDrop, prCapbsetRead, prSetName, prSetPdeathsig, prSetPtracer,
		prSetSecurebits, prSetTimerslack, prSetTsc, prSetUnalign, prSetFpMode:
		return 2
	case prSetSpeculationCtrl:
		return 3
	case prSetSeccomp:
		switch arg2 {
		case seccompModeStrict:
			return 2
		case seccompModeFilter:
			return 3
		}
	}
	return 5
}

// prctlKind is the kind of prctl's argument i (1..4) under option opt.
func prctlKind(opt uint32, i int, a *[6]uint64) kind {
	switch opt {
	case prGetTidAddress:
		return kKptrOut
	case prGetChildSubreaper, prGetEndian, prGetFpemu, prGetFpexc, prGetName, prGetPdeathsig,
		prGetTsc, prGetUnalign:
		return kPrctlOut
	case prSetChildSubreaper, prSetEndian, prSetFpemu, prSetFpexc, prSetKeepcaps, prSetTiming,
		prSetNoNewPrivs, prSetThpDisable, prSetIoFlusher:
		if i == 1 {
			return kUlong
		}
	case prSetTimerslack:
		return kLong
	case prSetVma:
		if a[1] == prSetVmaAnonName {
			switch i {
			case 2:
				return kPtr
			case 3:
				return kUlong
			case 4:
				return kStr
			}
		}
	case prSetSyscallUserDispatch:
		if i == 4 {
			return kPtr
		}
	case prSchedCore:
		if i < 4 {
			return kPrctlArg
		}
		if uint32(a[1]) == prSchedCoreGet {
			return kPrctlOut // the cookie, stored at the address in arg5
		}
		return kPtr
	case prCapAmbient:
		if i == 2 && a[1] >= 1 && a[1] <= prCapAmbientLower {
			return kPrctlArg
		}
	case prMceKill, prSetSpeculationCtrl, prPacSetEnabledKeys:
		if i == 2 {
			return kPrctlArg
		}
	case prSetSeccomp:
		if i == 2 && a[1] == seccompModeFilter {
			return kPrctlArg
		}
	}
	if i == 1 {
		return kPrctlArg // appendPrctlArg knows which options name it
	}
	return kHex
}

// appendPrctlArg writes prctl's argument i (of kind kPrctlArg, or
// kPrctlOut at a successful exit) as strace's prctl.c does for its option.
func (d *Decoder) appendPrctlArg(dst []byte, c *call, i int) []byte {
	opt, v, arg2 := uint32(c.args[0]), c.args[i], c.args[1]
	switch opt {
	case prGetChildSubreaper, prGetEndian, prGetFpemu, prGetFpexc, prGetPdeathsig, prGetTsc, prGetUnalign:
		n, ok := d.readInt32(c.mem, v)
		if !ok {
			return appendPtr(dst, v)
		}
		dst = append(dst, '[')
		switch opt {
		case prGetPdeathsig:
			dst = appendSignal(dst, int64(n), true)
		case prGetTsc:
			dst = appendXval(dst, uint64(uint32(n)), prTscs, "PR_TSC_???")
		case prGetUnalign:
			dst = appendFlags(dst, uint64(uint32(n)), prUnalignFlags, "0", "PR_UNALIGN_???")
		default:
			dst = strconv.AppendUint(dst, uint64(uint32(n)), 10)
		}
		return append(dst, ']')
	case prGetName:
		return d.appendCStringN(dst, c.mem, v, taskCommLen)
	case prSchedCore:
		switch i {
		case 1:
			return appendXval(dst, uint64(uint32(v)), prSchedCoreCmds, "PR_SCHED_CORE_???")
		case 2:
			return strconv.AppendInt(dst, int64(int32(v)), 10)
		case 3: // strace shows the pid type's number and its name
			dst = appendHex(dst, uint64(uint32(v)))
			if name := lookup(uint64(uint32(v)), prPidTypes); name != "" {
				return appendComment(dst, name)
			}
			return appendComment(dst, "PIDTYPE_???")
		}
		b, ok := d.read(c.mem, v, 8)
		if !ok {
			return appendPtr(dst, v)
		}
		dst = append(dst, '[')
		dst = appendHex(dst, binary.LittleEndian.Uint64(b))
		return append(dst, ']')
	case prSveSetVl:
		return appendVL(dst, v, prSveVLFlags)
	case prSmeSetVl:
		return appendVL(dst, v, prSmeVLFlags)
	case prSetTaggedAddrCtrl:
		return appendTaggedAddr(dst, v)
	case prGetSpeculationCtrl:
		return appendXval(dst, v, prSpecCmds, "PR_SPEC_???")
	case prSetSpeculationCtrl:
		if i == 1 {
			return appendXval(dst, v, prSpecCmds, "PR_SPEC_???")
		}
		if arg2 > prSpecL1DFlush {
			return appendHex(dst, v)
		}
		if name := flagName(v, prSpecSetFlags); name != "" {
			return append(dst, name...)
		}
		return appendUnknown(dst, v, "PR_SPEC_???")
	case prSetDumpable:
		return appendXval(dst, v, prDumpables, "SUID_DUMP_???")
	case prCapbsetRead, prCapbsetDrop:
		return appendXval(dst, v, capabilities, "CAP_???")
	case prCapAmbient:
		if i == 1 {
			return appendXval(dst, v, prCapAmbients, "PR_CAP_AMBIENT_???")
		}
		return appendXval(dst, v, capabilities, "CAP_???")
	case prMceKill:
		if i == 1 {
			return appendXval(dst, v, prMceKills, "PR_MCE_KILL_???")
		}
		if arg2 == prMceKillSet {
			return appendXval(dst, v, prMceKillPolicy, "PR_MCE_KILL_???")
		}
		return appendHex(dst, v)
	case prSetName: // the kernel copies at most 15 bytes and a NUL
		return d.appendCStringN(dst, c.mem, v, taskCommLen-1)
	case prSetVma:
		return appendXval(dst, v, prSetVmas, "PR_SET_VMA_???")
	case prSetMm:
		return appendXval(dst, uint64(uint32(v)), prSetMms, "PR_SET_MM_???")
	case prSetPdeathsig:
		if v > prSetPdeathsigMaxSig {
			return strconv.AppendUint(dst, v, 10)
		}
		return appendSignal(dst, int64(v), true)
	case prSetPtracer:
		if int32(v) == -1 {
			return append(dst, "PR_SET_PTRACER_ANY"...)
		}
		return strconv.AppendInt(dst, int64(int32(v)), 10)
	case prSetSeccomp:
		if i == 1 {
			return appendXval(dst, v, seccompModes, "SECCOMP_MODE_???")
		}
		return d.appendFprog(dst, c.mem, v, c.tab.wordSize())
	case prSetSecurebits:
		return appendFlags(dst, v, secbits, "0", "SECBIT_???")
	case prSetTsc:
		return appendXval(dst, uint64(uint32(v)), prTscs, "PR_TSC_???")
	case prSetUnalign:
		return appendFlags(dst, uint64(uint32(v)), prUnalignFlags, "0", "PR_UNALIGN_???")
	case prSetFpMode:
		return appendFlags(dst, uint64(uint32(v)), prFpModes, "0", "PR_FP_MODE_???")
	case prPacResetKeys:
		return appendFlags(dst, v, prPacKeys, "0", "PR_PAC_???")
	case prPacSetEnabledKeys:
		return appendFlags(dst, v, prPacEnabledKeys, "0", "PR_PAC_???")
	case prSetSyscallUserDispatch:
		return appendXval(dst, v, prSudCmds, "PR_SYS_DISPATCH_???")
	}
	return appendHex(dst, v)
}

// appendVL writes an SVE or SME vector length setting: its flags by name,
// then the length in hex.
func appendVL(dst []byte, v uint64, flags []flag) []byte {
	if f := v &^ prVLLenMask; f != 0 {
		dst = appendFlags(dst, f, flags, "", "")
		dst = append(dst, '|')
	}
	return appendHex(dst, v&prVLLenMask)
}

// appendTaggedAddr writes arm64's tagged address control: the enable bit
// (named even when clear), the MTE fault mode, the tag mask and the rest.
func appendTaggedAddr(dst []byte, v uint64) []byte {
	if v&prTaggedAddrEnable == 0 {
		dst = append(dst, '!')
	}
	dst = append(dst, "PR_TAGGED_ADDR_ENABLE|"...)
	dst = append(dst, prMteTcfs[v&prMteTcfMask]...)
	if tag := v & prMteTagMask; tag != 0 {
		dst = append(dst, '|')
		dst = appendHex(dst, tag>>prMteTagShift)
		dst = append(dst, "<<PR_MTE_TAG_SHIFT"...)
	}
	if rest := v &^ (prTaggedAddrEnable | prMteTcfMask | prMteTagMask); rest != 0 {
		dst = append(dst, '|')
		dst = appendHex(dst, rest)
	}
	return dst
}

// appendFprog writes a struct sock_fprog of w-byte pointers: the program's
// length and its address.
func (d *Decoder) appendFprog(dst []byte, mem Memory, va uint64, w int) []byte {
	b, ok := d.read(mem, va, 2*w)
	if !ok {
		return appendPtr(dst, va)
	}
	dst = append(dst, "{len="...)
	dst = strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint16(b)), 10)
	dst = append(dst, ", filter="...)
	dst = appendPtr(dst, word(b[w:], w))
	return append(dst, '}')
}

// prctlResult appends to the result r of a successful prctl what strace
// shows of it for option opt (whose second argument is arg2): the result in
// hex and what it means, for the options that return a value to decode.
func prctlResult(dst []byte, opt uint32, arg2, r uint64) ([]byte, bool) {
	switch opt {
	case prGetDumpable:
		return withName(strconv.AppendUint(dst, r, 10), lookup(r, prDumpables)), true
	case prMceKillGet:
		return withName(strconv.AppendUint(dst, r, 10), lookup(r, prMceKillPolicy)), true
	case prGetSecurebits, prGetFpMode, prPacGetEnabledKeys:
		if r == 0 {
			return dst, false
		}
		table := secbits
		switch opt {
		case prGetFpMode:
			table = prFpModes
		case prPacGetEnabledKeys:
			table = prPacEnabledKeys
		}
		dst = appendHex(dst, r)
		start := len(dst) + 2
		if b := flagNames(append(dst, " ("...), r, table); len(b) > start {
			return append(b, ')'), true
		}
		return dst, true
	case prSveSetVl, prSveGetVl, prSmeSetVl, prSmeGetVl:
		if r == 0 {
			return dst, false
		}
		dst = appendHex(dst, r)
		if r&^prVLLenMask == 0 {
			return dst, true
		}
		table := prSveVLFlags
		if opt == prSmeSetVl || opt == prSmeGetVl {
			table = prSmeVLFlags
		}
		return append(appendVL(append(dst, " ("...), r, table), ')'), true
	case prGetSpeculationCtrl:
		if arg2 > prSpecL1DFlush {
			return dst, false
		}
		dst = appendHex(dst, r)
		if r == 0 {
			return append(dst, " (PR_SPEC_NOT_AFFECTED)"...), true
		}
		start := len(dst) + 2
		if b := flagNames(append(dst, " ("...), r, prSpecGetFlags); len(b) > start {
			return append(b, ')'), true
		}
		return dst, true
	case prGetTaggedAddrCtrl:
		dst = appendHex(dst, r)
		return append(appendTaggedAddr(append(dst, " ("...), r), ')'), true
	}
	return dst, false
}

// withName appends " (name)" when there is a name.
func withName(dst []byte, name string) []byte {
	if name == "" {
		return dst
	}
	dst = append(dst, " ("...)
	dst = append(dst, name...)
	return append(dst, ')')
}
