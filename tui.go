package main

import (
	"context"
	"os"

	"nitro/api"
	"nitro/themes"
	"nitro/ui"
)

// tuiOptions are the flags of the interactive mode.
type tuiOptions struct {
	domain, theme string
	history       int
}

func runTUI(ctx context.Context, h api.Hypervisor, o tuiOptions) error {
	pal, err := themes.Select(o.theme, os.Getenv)
	if err != nil {
		return err
	}
	path, err := keysFile()
	if err != nil {
		return err
	}
	keys, err := loadKeyMap(path)
	if err != nil {
		return err
	}
	return ui.Run(ctx, ui.Options{
		Hypervisor: h,
		Domain:     o.domain,
		Palette:    pal,
		Keys:       keys,
		History:    o.history,
	})
}
