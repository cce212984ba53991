package client

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLibraryDependencies checks that a program importing the package gets
// no command-line code: not kong, zerolog or the ses cli package.
func TestLibraryDependencies(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to list the dependencies with")
	}
	out, err := exec.Command("go", "list", "-deps", "github.com/seskit/ses/client").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 || !strings.Contains(string(out), "github.com/seskit/ses/tool") {
		t.Fatalf("go list -deps printed %q", out)
	}
	for _, dep := range deps {
		for _, banned := range []string{"github.com/alecthomas/kong", "github.com/rs/zerolog", "github.com/seskit/ses/cli"} {
			if dep == banned || strings.HasPrefix(dep, banned+"/") {
				t.Errorf("package client depends on %s", dep)
			}
		}
	}
}
