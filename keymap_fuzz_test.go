package main

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode"

	"github.com/charmbracelet/bubbles/key"

	"nitro/ui/common"
)

// FuzzLoadKeyMap gives loadKeyMap a careless user's keys.json: a key map
// or an error that says what is wrong (an unknown action, a key no key press
// has, or the JSON), never a panic; no key name that reaches the help and
// the hints can drive the terminal.
func FuzzLoadKeyMap(f *testing.F) {
	f.Add(`{"up": ["k", "up", "ctrl+p"], "pause": ["space"], "shutdown": []}`)
	f.Add(`{"quit": ["Q"], "force_quit": ["ctrl+c", "ctrl+q"]}`)
	f.Add(`{"jump": ["J"]}`)
	f.Add(`{"pause": ["\u001b]52;c;eA==\u0007"]}`)
	f.Add(`{"pause": ["\u009b2J"], "up": null}`)
	f.Add(`{"up": "k"`)
	f.Add(``)
	path := filepath.Join(f.TempDir(), "keys.json")
	f.Fuzz(func(t *testing.T, config string) {
		if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
		km, err := loadKeyMap(path)
		if err != nil {
			var syntax *json.SyntaxError
			var typ *json.UnmarshalTypeError
			if !errors.Is(err, common.ErrUnknownAction) && !errors.Is(err, common.ErrBadKey) && !errors.Is(err, common.ErrTrailing) && !errors.As(err, &syntax) &&
				!errors.As(err, &typ) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("error %v says neither which action or key nor where the JSON is wrong", err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		v := reflect.ValueOf(km)
		for i := range v.NumField() {
			b, ok := v.Field(i).Interface().(key.Binding)
			if !ok {
				continue
			}
			for _, s := range append(b.Keys(), b.Help().Key) {
				if strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) {
					t.Fatalf("%s: key %q holds a control or formatting character", v.Type().Field(i).Name, s)
				}
			}
		}
	})
}
