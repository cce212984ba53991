package certs

import "github.com/seskit/ses/cli"

// CreateCmd is `ses certs create`.
type CreateCmd struct{}

// Run runs the command.
func (c *CreateCmd) Run(g *cli.Globals) error { return cli.Usagef("ses certs create: not built yet") }
