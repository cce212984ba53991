package client

import "github.com/seskit/ses/cli"

// RenewCmd is `ses client renew`.
type RenewCmd struct{}

// Run runs the command.
func (c *RenewCmd) Run(g *cli.Globals) error { return cli.Usagef("ses client renew: not built yet") }
