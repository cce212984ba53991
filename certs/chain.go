package certs

import "github.com/seskit/ses/cli"

// ChainCmd is `ses certs chain`.
type ChainCmd struct{}

// Run runs the command.
func (c *ChainCmd) Run(g *cli.Globals) error { return cli.Usagef("ses certs chain: not built yet") }
