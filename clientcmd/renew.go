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
	ID        string        `arg:"" help:"The lease's entitlement id (32 hexadecimal digits, as ses client lease prints it)."`
	Duration  time.Duration `help:"New lease duration from now, e.g. 5m or PT5M (default: ${default})." default:"${default_lease}"`
	JSON      bool          `help:"Print the outcome as one JSON object, whatever it is."`
}

// Run renews the lease and prints its new expiry.
func (c *RenewCmd) Run(g *cli.Globals) error {
	expiry, err := c.renew(g)
	if c.JSON {
		res := result{Outcome: "renewed", ID: c.ID}
		if err == nil {
			res.Expiry = tool.FormatTime(expiry)
		}
		return writeJSON(g, res, err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "%s %s\n", c.ID, tool.FormatTime(expiry))
	return nil
}

func (c *RenewCmd) renew(g *cli.Globals) (time.Time, error) {
	if err := checkLeaseID(c.ID); err != nil {
		return time.Time{}, err
	}
	cl, err := c.newClient(g, tool.LeaseAPIVersion)
	if err != nil {
		return time.Time{}, err
	}
	expiry, err := cl.Renew(context.Background(), c.ID, c.Duration)
	if err != nil {
		return time.Time{}, ExitError(err)
	}
	return expiry, nil
}

// checkLeaseID refuses, before anything is sent, an id that is not a
// lease id.
func checkLeaseID(id string) error {
	if !tool.IsLeaseID(id) {
		return cli.Usagef("%q is not a lease id (%d hexadecimal digits)", id, tool.LeaseIDLength).
			Hint("give the id `ses client lease` printed")
	}
	return nil
}
