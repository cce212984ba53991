package certs

import (
	"fmt"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/tool"
)

// TrustCmd is `ses certs trust`.
type TrustCmd struct{}

// Run adds the development root to the system trust store (making the PKI
// if it is missing), so that curl and browsers trust `ses server`.
func (c *TrustCmd) Run(g *cli.Globals, store *tool.Store) error {
	pki, err := store.DevCertificates()
	if err != nil {
		return cli.Usagef("%v", err)
	}
	where, err := hostTrust(g.Stderr).add(pki.Root)
	if err != nil {
		return trustError(err)
	}
	fmt.Fprintf(g.Stdout, "this machine now trusts the development root %s (%s), in %s\n", pki.Root.Thumbprint(), pki.Root.File, where)
	return nil
}

// trustError is a failure to change the system trust store, with hints.
func trustError(err error) *cli.Error {
	return cli.Usagef("changing the system trust store: %v", err).
		Hint("it takes root (sudo), or an administrator prompt on Windows").
		Hint("or trust the root per program instead: curl --cacert \"$(ses certs path)/dev/root.pem\"")
}
