package certs

import "github.com/seskit/ses/cli"

// PinsCmd is `ses certs pins`.
type PinsCmd struct{}

// Run runs the command.
func (c *PinsCmd) Run(g *cli.Globals) error { return cli.Usagef("ses certs pins: not built yet") }
