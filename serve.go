package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"nitro/commands"
	"nitro/core"
	"nitro/serve"
)

// stringList is a repeatable flag: serve's --domain, nitro's -c.
type stringList []string

func (d *stringList) String() string { return strings.Join(*d, ",") }
func (d *stringList) Set(v string) error {
	*d = append(*d, v)
	return nil
}

// runServe is nitro serve: the terminal interface over SSH (package serve).
func runServe(ctx context.Context, h *core.Hypervisor, args []string, o tuiOptions, stdout io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&h.URI, "c", h.URI, "libvirt connection URI")
	cfg := serve.Config{Hypervisor: h, Theme: o.theme, History: o.history, Log: os.Stderr}
	fs.StringVar(&cfg.Listen, "listen", serve.DefaultListen, "address to listen on")
	fs.StringVar(&cfg.HostKey, "host-key", "", "the server's private key, made on first start (default $XDG_CONFIG_HOME/nitro/ssh_host_ed25519_key)")
	fs.StringVar(&cfg.AuthorizedKeys, "authorized-keys", "", "keys that may watch (authorized_keys form)")
	fs.StringVar(&cfg.Controllers, "controllers", "", "keys that may also break, edit, continue, inject, pause and start or stop domains")
	fs.Var((*stringList)(&cfg.Domains), "domain", "serve only this domain (repeatable; default all)")
	audit := fs.String("audit", "", "also append the audit log of control actions to this file")
	if err := fs.Parse(args); err != nil {
		return commands.ErrUsage
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("serve takes no arguments (%w)", commands.ErrUsage)
	}
	if cfg.HostKey == "" {
		dir, err := os.UserConfigDir()
		if err != nil {
			return fmt.Errorf("finding the config directory: %w", err)
		}
		cfg.HostKey = filepath.Join(dir, "nitro", "ssh_host_ed25519_key")
	}
	path, err := keysFile()
	if err != nil {
		return err
	}
	if cfg.Keys, err = loadKeyMap(path); err != nil {
		return err
	}
	cfg.Audit = stdout
	if *audit != "" {
		f, err := os.OpenFile(*audit, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		cfg.Audit = io.MultiWriter(stdout, f)
	}
	s, err := serve.New(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "nitro serve: listening on %s, host key %s\n", s.Addr(), s.Fingerprint())
	return s.Serve(ctx)
}
