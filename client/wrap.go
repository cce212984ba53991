package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/seskit/ses/cli"
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
	Timeout   time.Duration `help:"Bound on the call." default:"30s"`
}

// Run posts the WRAP request and prints the token.
func (c *WrapCmd) Run(g *cli.Globals) error {
	form := url.Values{"wrap_scope": {c.Scope}}
	switch {
	case c.Name != "":
		if c.Password == "" {
			return cli.Usagef("--name needs --password")
		}
		form.Set("wrap_name", c.Name)
		form.Set("wrap_password", c.Password)
	case c.Assertion != "":
		form.Set("wrap_assertion_format", "SWT")
		form.Set("wrap_assertion", c.Assertion)
	default:
		return cli.Usagef("no credentials").Hint("pass --name and --password, or --assertion SWT")
	}
	// The same TLS rules as the entitlement client, without the Batch
	// host list: the URL names the issuer explicitly.
	flags := ConnFlags{URL: c.URL, CA: c.CA, Pin: c.Pin, Dev: c.Dev}
	o, err := flags.Options(g)
	if err != nil {
		return err
	}
	u, err := ParseURL(c.URL)
	if err != nil {
		return ExitError(err)
	}
	tlsConf, err := TLSConfig(u.Hostname(), o)
	if err != nil {
		return err
	}
	hc := &http.Client{
		Timeout:       c.Timeout,
		Transport:     &http.Transport{TLSClientConfig: tlsConf, Proxy: http.ProxyFromEnvironment},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return cli.Usagef("%v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		err = classify(err)
		if _, ok := err.(*UntrustedError); !ok {
			err = &UnreachableError{Attempts: 1, Err: err}
		}
		return ExitError(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return ExitError(&DeniedError{Status: resp.StatusCode, Code: "Unauthorized", Message: strings.TrimSpace(string(body))})
	case resp.StatusCode != http.StatusOK:
		return ExitError(&ProtocolError{Status: resp.StatusCode, Msg: strings.TrimSpace(string(body))})
	}
	answer, err := url.ParseQuery(string(body))
	token := answer.Get("wrap_access_token")
	if err != nil || token == "" {
		return ExitError(&ProtocolError{Status: resp.StatusCode, Msg: "the answer has no wrap_access_token"})
	}
	if c.Header {
		fmt.Fprintf(g.Stdout, "WRAP access_token=%q\n", token)
	} else {
		fmt.Fprintln(g.Stdout, token)
	}
	return nil
}
