package clientcmd

import (
	"context"
	"fmt"
	"time"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/tool"
)

// RenewCmd is `ses client renew`.
type RenewCmd struct {
	ConnFlags `embed:""`
	ID        string        `arg:"" help:"The lease's entitlement id."`
	Duration  time.Duration `help:"New lease duration from now." default:"${default_lease}"`
}

// Run renews the lease and prints its new expiry.
func (c *RenewCmd) Run(g *cli.Globals) error {
	cl, err := c.newClient(g, tool.LeaseAPIVersion)
	if err != nil {
		return err
	}
	expiry, err := cl.Renew(context.Background(), c.ID, c.Duration)
	if err != nil {
		return ExitError(err)
	}
	fmt.Fprintf(g.Stdout, "%s %s\n", c.ID, tool.FormatTime(expiry))
	return nil
}
