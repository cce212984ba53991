package clientcmd

import (
	"context"
	"encoding/json"
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
	JSON       bool `help:"Print the result as JSON."`
}

// checkResult is the --json form of the result.
type checkResult struct {
	Entitled bool   `json:"entitled"`
	App      string `json:"app"`
	ID       string `json:"id,omitempty"`
	VMID     string `json:"vmid,omitempty"`
	Expiry   string `json:"expiry,omitempty"`
	Error    string `json:"error,omitempty"`
	Code     string `json:"code,omitempty"`
}

// Run asks for the entitlement and exits 0 when entitled, 1 when denied.
func (c *CheckCmd) Run(g *cli.Globals) error {
	token, err := c.read(g)
	if err != nil {
		return err
	}
	cl, err := c.newClient(g, "")
	if err != nil {
		return err
	}
	ent, err := cl.Check(context.Background(), token, c.App)
	res := checkResult{Entitled: err == nil, App: c.App}
	var denied *client.DeniedError
	switch {
	case err == nil:
		res.ID, res.VMID = ent.ID, ent.VMID
		if !ent.Expiry.IsZero() {
			res.Expiry = tool.FormatTime(ent.Expiry)
		}
	case errors.As(err, &denied):
		res.Error, res.Code = denied.Message, denied.Code
	default:
		return ExitError(err)
	}
	if c.JSON {
		if err := json.NewEncoder(g.Stdout).Encode(res); err != nil {
			return err
		}
	} else if res.Entitled {
		line := fmt.Sprintf("entitled %s %s", c.App, res.ID)
		if res.VMID != "" {
			line += " vmid " + res.VMID
		}
		if res.Expiry != "" {
			line += " expires " + res.Expiry
		}
		fmt.Fprintln(g.Stdout, line)
	} else {
		fmt.Fprintf(g.Stdout, "denied %s: %s\n", c.App, denied.Message)
	}
	if err != nil {
		return ExitError(err)
	}
	return nil
}
