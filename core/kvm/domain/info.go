package domain

import (
	"fmt"
	"sort"

	"libvirt.org/go/libvirt"
)

// State is a domain's run state as libvirt reports it.
type State int

// The states nitro shows; values are libvirt's.
const (
	NoState     = State(libvirt.DOMAIN_NOSTATE)
	Running     = State(libvirt.DOMAIN_RUNNING)
	Blocked     = State(libvirt.DOMAIN_BLOCKED)
	Paused      = State(libvirt.DOMAIN_PAUSED)
	ShuttingOff = State(libvirt.DOMAIN_SHUTDOWN)
	ShutOff     = State(libvirt.DOMAIN_SHUTOFF)
	Crashed     = State(libvirt.DOMAIN_CRASHED)
	Suspended   = State(libvirt.DOMAIN_PMSUSPENDED)
)

var stateNames = map[State]string{
	NoState:     "no state",
	Running:     "running",
	Blocked:     "blocked",
	Paused:      "paused",
	ShuttingOff: "shutting down",
	ShutOff:     "shut off",
	Crashed:     "crashed",
	Suspended:   "pmsuspended",
}

func (s State) String() string {
	if n, ok := stateNames[s]; ok {
		return n
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// Active says whether the domain has a QEMU process.
func (s State) Active() bool { return s != ShutOff && s != Crashed && s != NoState }

// Info is what the domain list shows of a domain.
type Info struct {
	Name      string
	State     State
	VCPUs     uint
	MemoryKiB uint64
}

func sortByName(infos []Info) {
	sort.Slice(infos, func(i, j int) bool { return infos[i].Name < infos[j].Name })
}
