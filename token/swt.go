package token

import "github.com/seskit/ses/cli"

// SWTCmd is `ses token swt`.
type SWTCmd struct{}

// Run runs the command.
func (c *SWTCmd) Run(g *cli.Globals) error { return cli.Usagef("ses token swt: not built yet") }
