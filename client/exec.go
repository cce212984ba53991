package client

import "github.com/seskit/ses/cli"

// ExecCmd is `ses client exec`.
type ExecCmd struct{}

// Run runs the command.
func (c *ExecCmd) Run(g *cli.Globals) error { return cli.Usagef("ses client exec: not built yet") }
