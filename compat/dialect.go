package compat

import (
	"strings"

	"github.com/seskit/ses/cli"
)

// Names are the names under which the binary speaks a dialect, as `ses
// links` creates them.
var Names = []string{"sestest", "sesclient"}

// Root returns the kong root of the dialect the binary speaks when it runs
// under name (its file name, any case, ".exe" or not): the program name to
// report errors with, the root and its globals. It returns a nil root for
// any other name: the binary is ses.
func Root(name string) (prog string, root any, g *cli.Globals) {
	switch strings.TrimSuffix(strings.ToLower(name), ".exe") {
	case "sestest":
		r := &Sestest{}
		return "sestest", r, &r.Globals
	case "sesclient", "sesclient.native":
		r := &Sesclient{}
		return "sesclient", r, &r.Globals
	}
	return "", nil, nil
}
