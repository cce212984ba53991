package client

import "github.com/seskit/ses/cli"

// ReleaseCmd is `ses client release`.
type ReleaseCmd struct{}

// Run runs the command.
func (c *ReleaseCmd) Run(g *cli.Globals) error {
	return cli.Usagef("ses client release: not built yet")
}
