package client

import "github.com/seskit/ses/cli"

// LeaseCmd is `ses client lease`.
type LeaseCmd struct{}

// Run runs the command.
func (c *LeaseCmd) Run(g *cli.Globals) error { return cli.Usagef("ses client lease: not built yet") }
