package themes

import (
	"errors"
	"testing"
)

func TestSelect(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "NO_COLOR" {
				return v
			}
			return ""
		}
	}
	cases := []struct {
		name, noColor, want string
	}{
		{"", "", "dark"},
		{"", "1", "none"},
		{"light", "1", "light"}, // an explicit choice beats the environment
		{"none", "", "none"},
	}
	for _, c := range cases {
		p, err := Select(c.name, env(c.noColor))
		if err != nil || p.Name != c.want {
			t.Errorf("Select(%q) with NO_COLOR=%q = %q, %v; want %q", c.name, c.noColor, p.Name, err, c.want)
		}
	}
	if _, err := Select("solarized", env("")); !errors.Is(err, ErrUnknown) {
		t.Errorf("Select(solarized) error = %v, want ErrUnknown", err)
	}
}

func TestColorless(t *testing.T) {
	for _, n := range Names() {
		p, _ := Lookup(n)
		if got, want := p.Colorless(), n == "none"; got != want {
			t.Errorf("%s: Colorless() = %v, want %v", n, got, want)
		}
	}
}
