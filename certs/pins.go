package certs

import (
	"fmt"
	"text/tabwriter"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/tool"
)

// PinsCmd is `ses certs pins`.
type PinsCmd struct{}

// Run lists the built-in pins.
func (c *PinsCmd) Run(g *cli.Globals) error {
	tw := tabwriter.NewWriter(g.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SHA-1\tNAME\tKIND\tHOSTS\tEXPIRES")
	for _, p := range tool.BuiltinPins() {
		hosts, expires := p.Host, p.Expires
		if hosts == "" {
			hosts = "all Batch hosts"
		}
		if expires == "" {
			expires = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.SHA1, p.Name, p.Kind, hosts, expires)
	}
	return tw.Flush()
}
