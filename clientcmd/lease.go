package clientcmd

import (
	"fmt"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/tool"
)

// LeaseCmd is `ses client lease`.
type LeaseCmd struct {
	LeaseFlags `embed:""`
	JSON       bool `help:"Print the outcome as one JSON object, whatever it is."`
}

// Run acquires a lease and prints its id and expiry.
func (c *LeaseCmd) Run(g *cli.Globals) error {
	_, l, err := c.acquire(g)
	if c.JSON {
		res := result{Outcome: "leased", App: c.App}
		if l != nil {
			res.ID, res.Expiry = l.ID, tool.FormatTime(l.Expiry)
		}
		return writeJSON(g, res, err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "%s %s\n", l.ID, tool.FormatTime(l.Expiry))
	return nil
}
