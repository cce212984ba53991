package clientcmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/client"
	"github.com/seskit/ses/tool"
)

// CheckCmd is `ses client`: one entitlement request, as a Batch task makes
// it.
type CheckCmd struct {
	ConnFlags  `embed:""`
	TokenFlags `embed:""`
	JSON       bool `help:"Print the outcome as one JSON object, whatever it is."`
}

// Run asks for the entitlement and exits 0 when entitled, 1 when denied.
func (c *CheckCmd) Run(g *cli.Globals) error {
	ent, err := c.check(g)
	if c.JSON {
		entitled := err == nil
		res := result{Outcome: "entitled", Entitled: &entitled, App: c.App}
		if ent != nil {
			res.ID, res.VMID = ent.ID, ent.VMID
			if !ent.Expiry.IsZero() {
				res.Expiry = tool.FormatTime(ent.Expiry)
			}
		}
		return writeJSON(g, res, err)
	}
	var denied *client.DeniedError
	switch {
	case err == nil:
		line := fmt.Sprintf("entitled %s %s", c.App, ent.ID)
		if ent.VMID != "" {
			line += " vmid " + ent.VMID
		}
		if !ent.Expiry.IsZero() {
			line += " expires " + tool.FormatTime(ent.Expiry)
		}
		fmt.Fprintln(g.Stdout, tool.Printable(line))
	case errors.As(err, &denied):
		fmt.Fprintf(g.Stdout, "denied %s: %s\n", tool.Printable(c.App), tool.Printable(denied.Message))
	}
	return err
}

// check reads the token and asks; its errors carry their exit codes.
func (c *CheckCmd) check(g *cli.Globals) (*client.Entitlement, error) {
	token, err := c.read(g)
	if err != nil {
		return nil, err
	}
	cl, err := c.newClient(g, "")
	if err != nil {
		return nil, err
	}
	ent, err := cl.Check(context.Background(), token, c.App)
	if err != nil {
		return nil, ExitError(err)
	}
	return ent, nil
}
