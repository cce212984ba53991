package main

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestArchitectureImports checks that ARCHITECTURE.md's table of imports is
// the one the code has: for every package, what it imports from this
// module, tests left out.
func TestArchitectureImports(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to list the packages with")
	}
	doc, err := os.ReadFile("ARCHITECTURE.md")
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^(\S+)\s+-> (.*)$`)
	want := map[string][]string{}
	for _, m := range line.FindAllStringSubmatch(string(doc), -1) {
		var deps []string
		if m[2] != "(none)" {
			deps = strings.Split(m[2], ", ")
		}
		want[m[1]] = deps
	}
	if len(want) < 10 {
		t.Fatalf("ARCHITECTURE.md lists the imports of %d packages", len(want))
	}

	// With cgo on, so that libses, whose files all need it, is listed with
	// what its library build imports (go list needs no C compiler for it).
	list := exec.Command("go", "list", "-json", "./...")
	list.Env = append(os.Environ(), "CGO_ENABLED=1")
	out, err := list.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const module = "github.com/seskit/ses"
	got := map[string][]string{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		if name == "" {
			name = "main"
		}
		if strings.HasPrefix(name, "internal/") {
			continue // test support, imported by tests only
		}
		deps := []string{}
		for _, imp := range p.Imports {
			if dep, ok := strings.CutPrefix(imp, module+"/"); ok {
				deps = append(deps, dep)
			}
		}
		got[name] = deps
	}
	for name, deps := range got {
		w, listed := want[name]
		switch {
		case !listed:
			t.Errorf("ARCHITECTURE.md does not list package %s (it imports %v)", name, deps)
		case !slices.Equal(slices.Sorted(slices.Values(w)), slices.Sorted(slices.Values(deps))):
			t.Errorf("%s imports %v; ARCHITECTURE.md says %v", name, deps, w)
		}
	}
	for name := range want {
		if _, ok := got[name]; !ok {
			t.Errorf("ARCHITECTURE.md lists %s, which is not a package", name)
		}
	}
}
