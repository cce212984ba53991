package compat

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/alecthomas/kong"
	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/client"
	"github.com/seskit/ses/clientcmd"
	"github.com/seskit/ses/tool"
)

// Sesclient is the `sesclient` dialect: the native test client's flags. As
// the reference did, it asks with api-version 2017-05-01.5.0, prints the
// entitlement id alone, refuses a URL with more than one path segment, and
// adds the --thumbprint certificate to the built-in pins. Unlike the
// reference, it checks the chain before the token is sent, and vmid is
// optional.
type Sesclient struct {
	cli.Globals

	Version kong.VersionFlag `help:"Print the version and exit." group:"global"`

	URL         string `help:"The Batch account endpoint (default: $AZ_BATCH_ACCOUNT_URL)." placeholder:"URL"`
	Token       string `help:"The token, or - for stdin (default: $AZ_BATCH_SOFTWARE_ENTITLEMENT_TOKEN)." placeholder:"TOKEN"`
	Application string `ses:"app" help:"Application id (required)." placeholder:"APP"`
	Thumbprint  string `ses:"pin" help:"Thumbprint of a certificate the server's chain may contain besides the built-in pins (with --common-name); every character but the hex digits is ignored." placeholder:"THUMBPRINT"`
	CommonName  string `help:"Common name that certificate must have (with --thumbprint)." placeholder:"NAME"`
}

// DefaultLogLevel is warn: the reference client logged nothing.
func (*Sesclient) DefaultLogLevel() string { return "warn" }

// Run asks for the entitlement, once every input is there (the missing
// ones are reported together, as the reference did). The --thumbprint
// certificate with its --common-name is pinned besides the built-in pins,
// as in the reference. When the thumbprint is the store's development
// intermediate, the development hosts are trusted as `ses client --dev`
// trusts them, so the dialect works against `ses server` out of the box.
func (c *Sesclient) Run(g *cli.Globals) error {
	rawURL := c.URL
	if rawURL == "" {
		rawURL = g.Getenv(client.EnvURL)
	}
	var errs []error
	if strings.TrimSpace(rawURL) == "" {
		errs = append(errs, cli.Usagef("no server URL").Hint("pass --url URL, or set %s", client.EnvURL))
	}
	if c.Token == "" && strings.TrimSpace(g.Getenv(client.EnvToken)) == "" {
		errs = append(errs, cli.Usagef("no token given").Hint("pass --token TOKEN (- for stdin), or set %s", client.EnvToken))
	}
	if strings.TrimSpace(c.Application) == "" {
		errs = append(errs, cli.Usagef("no application given").Hint("name it with --application APP"))
	}
	var pin *tool.Pin
	switch {
	case (c.Thumbprint == "") != (c.CommonName == ""):
		errs = append(errs, cli.Usagef("--thumbprint and --common-name go together").Hint("give both, or neither for the built-in pins"))
	case c.Thumbprint != "":
		p, err := thumbprintPin(c.Thumbprint, c.CommonName)
		if err != nil {
			errs = append(errs, err)
		}
		pin = p
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := checkPath(rawURL); err != nil {
		return err
	}
	token, err := g.ReadToken(c.Token, "", client.EnvToken)
	if err != nil {
		return err
	}
	o, err := options(g, rawURL, pin)
	if err != nil {
		return err
	}
	cl, err := client.New(o)
	if err == nil {
		var ent *client.Entitlement
		if ent, err = cl.Check(context.Background(), token, c.Application); err == nil {
			_, err = fmt.Fprintln(g.Stdout, ent.ID)
			return err
		}
	}
	e := clientcmd.ExitError(err)
	var untrusted *client.UntrustedError
	if errors.As(err, &untrusted) && untrusted.RefusedHost != "" {
		var ce *cli.Error
		if errors.As(e, &ce) {
			ce.Hint("for a ses server on this machine, pass --thumbprint and --common-name of the store's development intermediate CA (`ses certs list --show all`)")
		}
	}
	return e
}

// options are the client's: the reference's api-version, and pin added to
// the built-in pins.
func options(g *cli.Globals, rawURL string, pin *tool.Pin) (client.Options, error) {
	flags := clientcmd.ConnFlags{URL: rawURL, Retries: client.DefaultRetries, Timeout: client.DefaultTimeout, APIVersion: ReferenceAPIVersion}
	o, err := flags.Options(g)
	if err != nil || pin == nil {
		return o, err
	}
	o.ExtraPins = append(o.ExtraPins, *pin)
	if dev := devIntermediate(g, pin.SHA1); dev != nil {
		clientcmd.TrustDev(&o, dev)
	}
	return o, nil
}

// thumbprintPin reads --thumbprint as the reference client did, keeping
// only the hex digits (what a copy from a certificate dialog brings along
// goes), which must then be the 40 of a SHA-1 thumbprint.
func thumbprintPin(thumbprint, commonName string) (*tool.Pin, error) {
	var digits strings.Builder
	for _, r := range thumbprint {
		if r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F' {
			digits.WriteRune(r)
		}
	}
	if digits.Len() != 40 {
		return nil, cli.Usagef("--thumbprint %q has %d hex digits, want the 40 of a SHA-1 thumbprint", thumbprint, digits.Len())
	}
	p, err := tool.ParsePin(strings.ToUpper(digits.String()) + "=" + commonName)
	if err != nil {
		return nil, cli.Usagef("--thumbprint: %v", err)
	}
	return &p, nil
}

// checkPath refuses a URL whose path has more than one segment, as the
// reference client did: an account endpoint is a host, at most with one
// segment after it.
func checkPath(rawURL string) error {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return nil // the client's URL rules report it
	}
	if strings.Contains(strings.Trim(u.Path, "/"), "/") {
		return &cli.Error{Code: cli.ExitUntrusted,
			Err:   fmt.Errorf("--url %q has more than one path segment after the host", rawURL),
			Hints: []string{"give the account endpoint, e.g. https://ACCOUNT.REGION.batch.azure.com"}}
	}
	return nil
}

// devIntermediate returns the store's development PKI when thumbprint names
// its intermediate. It never creates the PKI.
func devIntermediate(g *cli.Globals, thumbprint string) *tool.DevPKI {
	t, err := tool.ParseThumbprint(thumbprint)
	if err != nil {
		return nil
	}
	store, err := g.OpenStore()
	if err != nil || !store.HasDev() {
		return nil
	}
	pki, err := store.DevCertificates()
	if err != nil || pki.Intermediate.Thumbprint() != t {
		return nil
	}
	return pki
}
