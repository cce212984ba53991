package client

import (
	"context"
	"fmt"
	"time"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/tool"
)

// LeaseCmd is `ses client lease`.
type LeaseCmd struct {
	ConnFlags `embed:""`
	App       string `help:"Application id to lease an entitlement for." required:"" placeholder:"APP"`
	Token     string `help:"The token, or - for stdin (default: --token-file, else $AZ_BATCH_SOFTWARE_ENTITLEMENT_TOKEN)." placeholder:"TOKEN"`
	TokenFile string `help:"Read the token from this file." type:"path" placeholder:"FILE"`
	Duration  string `help:"Lease duration, ISO 8601." default:"PT5M" placeholder:"DURATION"`
}

// Run acquires a lease and prints its id and expiry.
func (c *LeaseCmd) Run(g *cli.Globals) error {
	d, err := parseDuration(c.Duration)
	if err != nil {
		return err
	}
	token, err := readToken(g, c.Token, c.TokenFile)
	if err != nil {
		return err
	}
	cl, err := c.newClient(g, tool.LeaseAPIVersion)
	if err != nil {
		return err
	}
	l, err := cl.Acquire(context.Background(), token, c.App, d)
	if err != nil {
		return ExitError(err)
	}
	fmt.Fprintf(g.Stdout, "%s %s\n", l.ID, stampOr(l.Expiry, ""))
	return nil
}

func parseDuration(s string) (time.Duration, error) {
	d, err := tool.ParseISODuration(s)
	if err != nil || d <= 0 {
		return 0, cli.Usagef("--duration %q: want a positive ISO 8601 duration", s).Hint("for example --duration PT5M")
	}
	return d, nil
}
