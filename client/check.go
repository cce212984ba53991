package client

import "github.com/seskit/ses/cli"

// CheckCmd is `ses client check`.
type CheckCmd struct{}

// Run runs the command.
func (c *CheckCmd) Run(g *cli.Globals) error { return cli.Usagef("ses client check: not built yet") }
