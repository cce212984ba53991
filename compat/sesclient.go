package compat

import (
	"context"
	"fmt"
	"strings"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/client"
	"github.com/seskit/ses/clientcmd"
	"github.com/seskit/ses/tool"
)

// Sesclient is the `sesclient` dialect: the native test client's flags. On
// success it prints the entitlement id alone, as the reference did; unlike
// the reference, it checks the chain before the token is sent, and vmid is
// optional.
type Sesclient struct {
	cli.Globals

	URL         string `help:"The Batch account endpoint (default: $AZ_BATCH_ACCOUNT_URL)."`
	Token       string `help:"The token, or - for stdin (default: $AZ_BATCH_SOFTWARE_ENTITLEMENT_TOKEN)."`
	Application string `required:"" help:"Application id."`
	Thumbprint  string `help:"Thumbprint of a certificate the server's chain must contain (with --common-name)."`
	CommonName  string `help:"Common name that certificate must have (with --thumbprint)."`
}

// Run asks for the entitlement. With --thumbprint and --common-name that
// certificate is the only pin, as in the reference; without, the built-in
// pins apply. When the thumbprint is the store's development intermediate,
// the development hosts are trusted as `ses client --dev` trusts them, so
// the dialect works against `ses server` out of the box.
func (c *Sesclient) Run(g *cli.Globals) error {
	if (c.Thumbprint == "") != (c.CommonName == "") {
		return cli.Usagef("--thumbprint and --common-name go together").Hint("give both, or neither for the built-in pins")
	}
	token, err := g.ReadToken(c.Token, "", client.EnvToken)
	if err != nil {
		return err
	}
	flags := clientcmd.ConnFlags{URL: c.URL, Retries: client.DefaultRetries, Timeout: client.DefaultTimeout, APIVersion: tool.DefaultAPIVersion}
	o, err := flags.Options(g)
	if err != nil {
		return err
	}
	if c.Thumbprint != "" {
		pin, err := tool.ParsePin(c.Thumbprint + "=" + c.CommonName)
		if err != nil {
			return cli.Usagef("--thumbprint: %v", err)
		}
		o.Pins = []tool.Pin{pin}
		if dev := devIntermediate(g, c.Thumbprint); dev != nil {
			clientcmd.TrustDev(&o, dev)
		}
	}
	cl, err := client.New(o)
	if err != nil {
		return clientcmd.ExitError(err)
	}
	ent, err := cl.Check(context.Background(), token, c.Application)
	if err != nil {
		return clientcmd.ExitError(err)
	}
	_, err = fmt.Fprintln(g.Stdout, ent.ID)
	return err
}

// devIntermediate returns the store's development PKI when thumbprint names
// its intermediate. It never creates the PKI.
func devIntermediate(g *cli.Globals, thumbprint string) *tool.DevPKI {
	t, err := tool.ParseThumbprint(strings.TrimSpace(thumbprint))
	if err != nil {
		return nil
	}
	store, err := g.OpenStore()
	if err != nil || !store.HasDev() {
		return nil
	}
	pki, err := store.Dev()
	if err != nil || pki.Intermediate.Thumbprint() != t {
		return nil
	}
	return pki
}
