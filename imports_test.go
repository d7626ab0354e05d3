package main

import (
	"os/exec"
	"strings"
	"testing"
)

// faces are the packages that show guests to people and scripts, and the
// recordings they read and write: they reach the engine through package api
// only.
var faces = []string{"nitro/ui/...", "nitro/commands/...", "nitro/internal/traceformat", "nitro/internal/manual", "nitro/internal/traceevent", "nitro/api", "nitro/record/...", "nitro/replay", "nitro/serve", "nitro/triage", "nitro/remote"}

// TestFacesUseTheAPIOnly fails when a face depends on core, a listener,
// guest memory, a back end or its tables, directly or through another
// package.
func TestFacesUseTheAPIOnly(t *testing.T) {
	out, err := exec.Command("go", append([]string{"list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`}, faces...)...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		for _, imp := range f[1:] {
			if imp == "nitro/core" || strings.HasPrefix(imp, "nitro/core/") {
				t.Errorf("%s imports %s: faces use nitro/api", f[0], imp)
			}
		}
	}
}

// TestMainWiresTheFrontendOnly fails when the command reaches past the
// frontend into the engine: main wires package core to the faces, nothing
// deeper.
func TestMainWiresTheFrontendOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for imp := range strings.Lines(string(out)) {
		if imp = strings.TrimSpace(imp); strings.HasPrefix(imp, "nitro/core/") {
			t.Errorf("main imports %s: it may use nitro/core only", imp)
		}
	}
}
