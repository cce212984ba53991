// Package verify implements `ses verify`.
package verify

import "github.com/seskit/ses/cli"

// Cmd is `ses verify`.
type Cmd struct{}

// Run runs the command.
func (c *Cmd) Run(g *cli.Globals) error { return cli.Usagef("ses verify: not built yet") }
