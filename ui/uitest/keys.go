package uitest

import "nitro/ui/common"

// Keys is the key map of the tests: the same bindings as nitro's defaults
// (keymap.go in package main), kept here because tests cannot import main.
func Keys() *common.KeyMap {
	km, err := common.NewKeyMap(map[string][]string{
		"up": {"k", "up"}, "down": {"j", "down"}, "page_up": {"pgup", "ctrl+u"}, "page_down": {"pgdown", "ctrl+d"},
		"top": {"g", "home"}, "bottom": {"G", "end"}, "next_pane": {"tab"}, "prev_pane": {"shift+tab"},
		"select": {"enter"}, "start": {"s"}, "shutdown": {"x"},
		"break": {"b"}, "break_pid": {"B"}, "edit": {"e"}, "continue": {"c"}, "pause": {"p"}, "follow": {"f"},
		"filter": {"/"}, "clear": {"esc"}, "help": {"?"}, "quit": {"q"}, "force_quit": {"ctrl+c"},
	})
	if err != nil {
		panic(err) // a fixed table: only a renamed action gets here
	}
	return &km
}
