package clientcmd

import (
	"fmt"
	"time"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/tool"
)

// LeaseCmd is `ses client lease`.
type LeaseCmd struct {
	LeaseFlags `embed:""`
}

// Run acquires a lease and prints its id and expiry.
func (c *LeaseCmd) Run(g *cli.Globals) error {
	_, l, _, err := c.acquire(g)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "%s %s\n", l.ID, tool.FormatTime(l.Expiry))
	return nil
}

func parseDuration(s string) (time.Duration, error) {
	d, err := tool.ParseISODuration(s)
	if err != nil || d <= 0 {
		return 0, cli.Usagef("--duration %q: want a positive ISO 8601 duration", s).Hint("for example --duration PT5M")
	}
	return d, nil
}
