package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"nitro/ui/common"
)

// defaultKeys are nitro's key bindings by action; ui/common.Actions lists the
// action names. Users rebind keys in keysFile(), a JSON object from action to
// keys, e.g.
//
//	{"up": ["k", "up", "ctrl+p"], "pause": ["space"], "shutdown": []}
//
// An action it lists gets exactly those keys (an empty list unbinds it); the
// others keep these defaults. Keys are Bubble Tea's names: "a", "G", "enter",
// "esc", "tab", "shift+tab", "ctrl+c", "up", "pgdown", "home", "space".
var defaultKeys = map[string][]string{
	"up":         {"k", "up"},
	"down":       {"j", "down"},
	"page_up":    {"pgup", "ctrl+u"},
	"page_down":  {"pgdown", "ctrl+d"},
	"top":        {"g", "home"},
	"bottom":     {"G", "end"},
	"next_pane":  {"tab"},
	"prev_pane":  {"shift+tab"},
	"select":     {"enter"},
	"start":      {"s"},
	"shutdown":   {"x"},
	"break":      {"b"},
	"break_pid":  {"B"},
	"break_exit": {"E"},
	"edit":       {"e"},
	"continue":   {"c"},
	"inject":     {"i"},
	"inject_pid": {"I"},
	"pause":      {"p"},
	"record":     {"R"},
	"triage":     {"t"},
	"reattach":   {"r"},
	"step":       {"."},
	"step_back":  {","},
	"faster":     {"+"},
	"slower":     {"-"},
	"seek":       {":"},
	"next_match": {"n"},
	"follow":     {"f"},
	"filter":     {"/"},
	"clear":      {"esc"},
	"manual":     {"m"},
	"help":       {"?"},
	"quit":       {"q"},
	"force_quit": {"ctrl+c"},
}

// keysFile is the user's key config: $XDG_CONFIG_HOME/nitro/keys.json, or
// ~/.config/nitro/keys.json.
func keysFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("finding the config directory: %w", err)
	}
	return filepath.Join(dir, "nitro", "keys.json"), nil
}

// loadKeyMap is the default key map with the key config at path over it; a
// missing file leaves the defaults.
func loadKeyMap(path string) (common.KeyMap, error) {
	keys := defaultKeys
	f, err := os.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return common.KeyMap{}, fmt.Errorf("opening key config: %w", err)
	default:
		defer f.Close()
		if keys, err = common.MergeKeys(defaultKeys, f); err != nil {
			return common.KeyMap{}, fmt.Errorf("%s: %w", path, err)
		}
	}
	return common.NewKeyMap(keys)
}
