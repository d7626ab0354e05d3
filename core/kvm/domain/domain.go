package domain

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"libvirt.org/go/libvirt"
)

// Sentinel errors, matched with errors.Is.
var (
	ErrNotFound   = errors.New("domain not found")
	ErrNotRunning = errors.New("domain is not running")
	ErrNotQEMU    = errors.New("domain is not a QEMU domain (nitro attaches through QEMU's monitor)")
	ErrPermission = errors.New("permission denied by libvirt")
)

// DefaultURI is the connection used when none is given, chosen as virsh does.
func DefaultURI() string {
	if uri := os.Getenv("LIBVIRT_DEFAULT_URI"); uri != "" {
		return uri
	}
	return "qemu:///system"
}

// Conn is a connection to one libvirt daemon.
type Conn struct {
	uri  string
	virt *libvirt.Connect
}

// Open connects to uri, or to DefaultURI when uri is empty. libvirt's
// errors come back as Go errors only, never on the terminal: the binding
// replaces libvirt's default handler, which prints each one to stderr, and
// the client library starts no polkit agent (virsh does: its "Authorization
// not available" lines are pkttyagent's). TestConnectLeavesTerminalAlone
// holds this.
func Open(uri string) (*Conn, error) {
	if uri == "" {
		uri = DefaultURI()
	}
	virt, err := libvirt.NewConnect(uri)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", uri, wrap(err))
	}
	return &Conn{uri: uri, virt: virt}, nil
}

// URI is the libvirt URI this connection was opened with.
func (c *Conn) URI() string { return c.uri }

// Close ends the connection.
func (c *Conn) Close() error {
	if _, err := c.virt.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", c.uri, err)
	}
	return nil
}

// List returns every domain the daemon knows, running or not, by name.
func (c *Conn) List() ([]Info, error) {
	doms, err := c.virt.ListAllDomains(0)
	if err != nil {
		return nil, fmt.Errorf("listing domains on %s: %w", c.uri, wrap(err))
	}
	infos := make([]Info, 0, len(doms))
	for i := range doms {
		d := Domain{virt: &doms[i]}
		info, err := d.Info()
		doms[i].Free()
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				continue // undefined while we listed
			}
			return nil, err
		}
		infos = append(infos, info)
	}
	sortByName(infos)
	return infos, nil
}

// Lookup finds a domain by name.
func (c *Conn) Lookup(name string) (*Domain, error) {
	virt, err := c.virt.LookupDomainByName(name)
	if err != nil {
		return nil, fmt.Errorf("looking up %q on %s: %w", name, c.uri, wrap(err))
	}
	return &Domain{name: name, uri: c.uri, virt: virt}, nil
}

// OpenDomain connects to uri ("" for DefaultURI) and looks up domain name;
// closing the domain closes the connection too.
func OpenDomain(uri, name string) (*Domain, error) {
	conn, err := Open(uri)
	if err != nil {
		return nil, err
	}
	d, err := conn.Lookup(name)
	if err != nil {
		conn.Close()
		return nil, err
	}
	d.owner = conn
	return d, nil
}

// Domain is one libvirt domain.
type Domain struct {
	name  string
	uri   string
	virt  *libvirt.Domain
	owner *Conn // closed with the domain, when OpenDomain made it
}

// Name is the domain's libvirt name.
func (d *Domain) Name() string { return d.name }

// Close releases the handle (and the connection OpenDomain made); the
// domain itself is untouched.
func (d *Domain) Close() error {
	err := d.virt.Free()
	if d.owner != nil {
		err = errors.Join(err, d.owner.Close())
	}
	return err
}

// Info reads the domain's name, state, vCPU count and memory.
func (d *Domain) Info() (Info, error) {
	name, err := d.virt.GetName()
	if err != nil {
		return Info{}, fmt.Errorf("reading domain name: %w", wrap(err))
	}
	raw, err := d.virt.GetInfo()
	if err != nil {
		return Info{}, fmt.Errorf("reading state of %q: %w", name, wrap(err))
	}
	return Info{Name: name, State: State(raw.State), VCPUs: uint(raw.NrVirtCpu), MemoryKiB: raw.Memory}, nil
}

// PausedByUser reports whether someone paused the domain through libvirt
// (virsh suspend), as opposed to running it or stopping it otherwise.
func (d *Domain) PausedByUser() (bool, error) {
	state, reason, err := d.virt.GetState()
	if err != nil {
		return false, fmt.Errorf("reading state of %q: %w", d.name, wrap(err))
	}
	return state == libvirt.DOMAIN_PAUSED && libvirt.DomainPausedReason(reason) == libvirt.DOMAIN_PAUSED_USER, nil
}

// Start boots a defined, shut-off domain.
func (d *Domain) Start() error { return d.control("starting", d.virt.Create) }

// Shutdown asks the guest to power off.
func (d *Domain) Shutdown() error { return d.control("shutting down", d.virt.Shutdown) }

// Suspend pauses every vCPU of the domain.
func (d *Domain) Suspend() error { return d.control("pausing", d.virt.Suspend) }

// Resume lets a paused domain run again.
func (d *Domain) Resume() error { return d.control("resuming", d.virt.Resume) }

func (d *Domain) control(what string, op func() error) error {
	if err := op(); err != nil {
		return fmt.Errorf("%s %q: %w", what, d.name, wrap(err))
	}
	return nil
}

// HMP runs a human monitor command in the domain's QEMU and returns its output.
func (d *Domain) HMP(cmd string) (string, error) {
	return d.monitor(cmd, libvirt.DOMAIN_QEMU_MONITOR_COMMAND_HMP)
}

// QMP runs a QMP command (JSON) in the domain's QEMU and returns its JSON reply.
func (d *Domain) QMP(cmd string) (string, error) {
	return d.monitor(cmd, libvirt.DOMAIN_QEMU_MONITOR_COMMAND_DEFAULT)
}

func (d *Domain) monitor(cmd string, flags libvirt.DomainQemuMonitorCommandFlags) (string, error) {
	out, err := d.virt.QemuMonitorCommand(cmd, flags)
	if err != nil {
		err = wrap(err)
		if errors.Is(err, ErrNotQEMU) {
			return "", fmt.Errorf("%s: %w", d.name, ErrNotQEMU)
		}
		verb, _, _ := strings.Cut(cmd, " ")
		return "", fmt.Errorf("QEMU monitor command %q on %q: %w", verb, d.name, err)
	}
	return out, nil
}

// wrap maps libvirt's error codes to this package's sentinels, keeping
// libvirt's own message.
func wrap(err error) error {
	var verr libvirt.Error
	if !errors.As(err, &verr) {
		return err
	}
	msg := verr.Message
	switch verr.Code {
	case libvirt.ERR_NO_DOMAIN:
		return ErrNotFound // libvirt's message says no more
	case libvirt.ERR_OPERATION_INVALID:
		if verr.Domain == libvirt.FROM_DOMAIN || strings.Contains(msg, "not running") {
			return fmt.Errorf("%w: %s", ErrNotRunning, msg)
		}
	case libvirt.ERR_NO_SUPPORT, libvirt.ERR_ARGUMENT_UNSUPPORTED:
		return fmt.Errorf("%w: %s", ErrNotQEMU, msg)
	case libvirt.ERR_AUTH_FAILED, libvirt.ERR_AUTH_CANCELLED, libvirt.ERR_ACCESS_DENIED, libvirt.ERR_OPERATION_DENIED:
		return fmt.Errorf("%w: %s", ErrPermission, msg)
	}
	return fmt.Errorf("%s", msg)
}
