package clientcmd

import (
	"fmt"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/tool"
)

// LeaseCmd is `ses client lease`.
type LeaseCmd struct {
	LeaseFlags `embed:""`
}

// Run acquires a lease and prints its id and expiry.
func (c *LeaseCmd) Run(g *cli.Globals) error {
	_, l, err := c.acquire(g)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "%s %s\n", l.ID, tool.FormatTime(l.Expiry))
	return nil
}
