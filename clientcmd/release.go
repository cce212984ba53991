package clientcmd

import (
	"context"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/tool"
)

// ReleaseCmd is `ses client release`.
type ReleaseCmd struct {
	ConnFlags `embed:""`
	ID        string `arg:"" help:"The lease's entitlement id."`
}

// Run releases the lease.
func (c *ReleaseCmd) Run(g *cli.Globals) error {
	cl, err := c.newClient(g, tool.LeaseAPIVersion)
	if err != nil {
		return err
	}
	if err := cl.Release(context.Background(), c.ID); err != nil {
		return ExitError(err)
	}
	return nil
}
