package cli

import "fmt"

// VersionCmd is `version`: the version line, as --version prints it.
type VersionCmd struct{}

// Run prints the version line.
func (c *VersionCmd) Run(g *Globals) error {
	_, err := fmt.Fprintln(g.Stdout, g.Version)
	return err
}
