package token

import "github.com/seskit/ses/cli"

// EntitlementCmd is `ses token entitlement`.
type EntitlementCmd struct{}

// Run runs the command.
func (c *EntitlementCmd) Run(g *cli.Globals) error {
	return cli.Usagef("ses token entitlement: not built yet")
}
