// Package server implements `ses server`.
package server

import "github.com/seskit/ses/cli"

// Cmd is `ses server`.
type Cmd struct{}

// Run runs the command.
func (c *Cmd) Run(g *cli.Globals) error { return cli.Usagef("ses server: not built yet") }
