package clientcmd

import (
	"context"
	"fmt"
	"time"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/client"
	"github.com/seskit/ses/tool"
)

// WrapCmd is `ses client wrap`: ask a WRAP v0.9 issuer for a Simple Web
// Token.
type WrapCmd struct {
	URL       string        `help:"The issuer's token endpoint, e.g. https://localhost:4443/WRAPv0.9/." required:"" placeholder:"URL"`
	Scope     string        `help:"The URL the token is to apply to." required:"" placeholder:"URL"`
	Name      string        `help:"Issuer name (password profile)." xor:"profile" placeholder:"NAME"`
	Password  string        `help:"Issuer key (password profile)." placeholder:"KEY"`
	Assertion string        `help:"An SWT signed with the issuer's key (assertion profile)." xor:"profile" placeholder:"SWT"`
	Header    bool          `help:"Print the whole Authorization header value, WRAP access_token=\"...\"."`
	CA        []string      `help:"Trust this CA certificate file besides the system roots (repeatable)." type:"path" placeholder:"FILE"`
	Pin       []string      `help:"Also pin this certificate: SHA-1 or SHA-256 thumbprint, optionally =COMMON NAME (repeatable)." placeholder:"THUMBPRINT[=CN]"`
	Dev       bool          `help:"Trust the store's development root and pin its intermediate."`
	Timeout   time.Duration `help:"Bound on the call." default:"${default_wrap_timeout}"`
}

// Run asks the issuer and prints the token.
func (c *WrapCmd) Run(g *cli.Globals) error {
	req := client.WrapRequest{Scope: c.Scope, Name: c.Name, Password: c.Password, Assertion: c.Assertion}
	switch {
	case c.Name != "" && c.Password == "":
		return cli.Usagef("--name needs --password")
	case c.Name == "" && c.Assertion == "":
		return cli.Usagef("no credentials").Hint("pass --name and --password, or --assertion SWT")
	}
	// The same TLS rules as the entitlement client, without the Batch
	// host list: the URL names the issuer explicitly.
	flags := ConnFlags{URL: c.URL, CA: c.CA, Pin: c.Pin, Dev: c.Dev}
	o, err := flags.Options(g)
	if err != nil {
		return err
	}
	o.Timeout = c.Timeout
	tok, err := client.RequestWrapToken(context.Background(), o, req)
	if err != nil {
		return ExitError(err)
	}
	if c.Header {
		fmt.Fprintln(g.Stdout, tool.WRAPAuthorization(tok.AccessToken))
	} else {
		fmt.Fprintln(g.Stdout, tok.AccessToken)
	}
	return nil
}
