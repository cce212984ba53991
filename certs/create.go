package certs

import (
	"fmt"
	"text/tabwriter"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/tool"
)

// CreateCmd is `ses certs create`.
type CreateCmd struct {
	Force bool     `help:"Replace the development PKI with a new one."`
	Host  []string `help:"Another name or address for the TLS certificate (repeatable)." placeholder:"NAME"`
}

// Run makes the development PKI, or finds it, and prints its thumbprints.
func (c *CreateCmd) Run(g *cli.Globals, store *tool.Store) error {
	pki, created, err := store.CreateDev(cli.List(c.Host), c.Force)
	if err != nil {
		return cli.Usagef("%v", err)
	}
	if created {
		fmt.Fprintf(g.Stdout, "created the development PKI in %s\n", pki.Dir)
	} else {
		fmt.Fprintf(g.Stdout, "the development PKI in %s is ready\n", pki.Dir)
	}
	tw := tabwriter.NewWriter(g.Stdout, 0, 4, 2, ' ', 0)
	for _, row := range []struct {
		role string
		c    *tool.Credential
	}{
		{"root", pki.Root}, {"intermediate", pki.Intermediate}, {"tls", pki.TLS},
		{"signing", pki.Signing}, {"encryption", pki.Encryption},
	} {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", row.role, row.c.Thumbprint(), row.c.Certificate.Subject.CommonName)
	}
	return tw.Flush()
}
