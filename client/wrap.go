package client

import "github.com/seskit/ses/cli"

// WrapCmd is `ses client wrap`.
type WrapCmd struct{}

// Run runs the command.
func (c *WrapCmd) Run(g *cli.Globals) error { return cli.Usagef("ses client wrap: not built yet") }
