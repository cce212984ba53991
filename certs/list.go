package certs

import "github.com/seskit/ses/cli"

// ListCmd is `ses certs list`.
type ListCmd struct{}

// Run runs the command.
func (c *ListCmd) Run(g *cli.Globals) error { return cli.Usagef("ses certs list: not built yet") }
