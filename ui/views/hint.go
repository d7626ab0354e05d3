package views

import (
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
)

// KeyName is the first key bound to b, spelled as in keys.json; "" when b
// is unbound. Hints use it, not the defaults: users rebind keys.
func KeyName(b key.Binding) string {
	ks := b.Keys()
	if !b.Enabled() || len(ks) == 0 {
		return ""
	}
	if ks[0] == " " { // Bubble Tea's name for the key keys.json calls space
		return "space"
	}
	return Plain(ks[0]) // the user's config: host text
}

// Hint is "key what" for b's first key, or "" when b is unbound: a hint
// never names a dead key.
func Hint(b key.Binding, what string) string {
	k := KeyName(b)
	if k == "" {
		return ""
	}
	return k + " " + what
}

// Hints joins the hints that are not empty with sep.
func Hints(sep string, hints ...string) string {
	return strings.Join(slices.DeleteFunc(hints, func(h string) bool { return h == "" }), sep)
}
