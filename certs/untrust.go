package certs

import (
	"fmt"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/tool"
)

// UntrustCmd is `ses certs untrust`.
type UntrustCmd struct{}

// Run removes the development root from the system trust store.
func (c *UntrustCmd) Run(g *cli.Globals, store *tool.Store) error {
	if !store.HasDev() {
		return cli.Usagef("no development PKI in %s: nothing to untrust", store.Dir)
	}
	pki, err := store.DevCertificates()
	if err != nil {
		return cli.Usagef("%v", err)
	}
	where, err := hostTrust(g.Stderr).remove(pki.Root)
	if err != nil {
		return trustError(err)
	}
	fmt.Fprintf(g.Stdout, "this machine no longer trusts the development root %s: removed from %s\n", pki.Root.Thumbprint(), where)
	return nil
}
