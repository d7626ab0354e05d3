package uitest

import "nitro/ui/common"

// Keys is the key map of the tests: the same bindings as nitro's defaults
// (keymap.go in package main), kept here because tests cannot import main.
func Keys() *common.KeyMap { return KeysWith(nil) }

// KeysWith is Keys with the actions in over rebound as keys.json does it:
// each gets exactly the keys listed, none unbinds it.
func KeysWith(over map[string][]string) *common.KeyMap {
	keys := map[string][]string{
		"up": {"k", "up"}, "down": {"j", "down"}, "page_up": {"pgup", "ctrl+u"}, "page_down": {"pgdown", "ctrl+d"},
		"top": {"g", "home"}, "bottom": {"G", "end"}, "next_pane": {"tab"}, "prev_pane": {"shift+tab"},
		"select": {"enter"}, "start": {"s"}, "shutdown": {"x"},
		"break": {"b"}, "break_pid": {"B"}, "break_exit": {"E"}, "edit": {"e"}, "continue": {"c"}, "pause": {"p"}, "follow": {"f"},
		"filter": {"/"}, "clear": {"esc"}, "help": {"?"}, "quit": {"q"}, "force_quit": {"ctrl+c"},
		"inject": {"i"}, "inject_pid": {"I"}, "manual": {"m"},
		"record": {"R"}, "step": {"."}, "step_back": {","}, "faster": {"+"}, "slower": {"-"}, "seek": {":"}, "next_match": {"n"},
		"triage": {"t"}, "reattach": {"r"},
	}
	for n, ks := range over {
		keys[n] = ks
	}
	km, err := common.NewKeyMap(keys)
	if err != nil {
		panic(err) // a renamed action, or a test naming no action
	}
	return &km
}
