package certs

import "github.com/seskit/ses/cli"

// ShowCmd is `ses certs show`.
type ShowCmd struct{}

// Run runs the command.
func (c *ShowCmd) Run(g *cli.Globals) error { return cli.Usagef("ses certs show: not built yet") }
