package clientcmd

import (
	"context"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/tool"
)

// ReleaseCmd is `ses client release`.
type ReleaseCmd struct {
	ConnFlags `embed:""`
	ID        string `arg:"" help:"The lease's entitlement id (32 hexadecimal digits, as ses client lease prints it)."`
	JSON      bool   `help:"Print the outcome as one JSON object, whatever it is."`
}

// Run releases the lease.
func (c *ReleaseCmd) Run(g *cli.Globals) error {
	err := c.release(g)
	if c.JSON {
		return writeJSON(g, result{Outcome: "released", ID: c.ID}, err)
	}
	return err
}

func (c *ReleaseCmd) release(g *cli.Globals) error {
	if err := checkLeaseID(c.ID); err != nil {
		return err
	}
	cl, err := c.newClient(g, tool.LeaseAPIVersion)
	if err != nil {
		return err
	}
	if err := cl.Release(context.Background(), c.ID); err != nil {
		return ExitError(err)
	}
	return nil
}
