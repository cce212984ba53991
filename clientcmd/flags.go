package clientcmd

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/client"
	"github.com/seskit/ses/tool"
)

// ConnFlags are the connection flags every `ses client` command shares.
type ConnFlags struct {
	URL        string        `help:"Batch account endpoint (default: $AZ_BATCH_ACCOUNT_URL)." placeholder:"URL"`
	AllowHost  []string      `help:"Allow hosts under this suffix besides the Batch hosts (repeatable)." placeholder:"SUFFIX"`
	CA         []string      `help:"Trust this CA certificate file besides the system roots (repeatable)." type:"path" placeholder:"FILE"`
	Pins       string        `help:"Replace the built-in pins with this JSON file." type:"path" placeholder:"FILE"`
	Pin        []string      `help:"Also pin this certificate: SHA-1 or SHA-256 thumbprint, optionally =COMMON NAME (repeatable)." placeholder:"THUMBPRINT[=CN]"`
	Dev        bool          `help:"Trust the store's development root, pin its intermediate, allow localhost."`
	Retries    int           `help:"Retries of connection failures, timeouts, 429 and 5xx." default:"${default_retries}"`
	Timeout    time.Duration `help:"Bound on the whole call, retries included." default:"${default_timeout}"`
	APIVersion string        `help:"api-version to ask with (default: ${default})." default:"${default_api_version}" placeholder:"VERSION"`
}

// Options turns the flags into client.Options.
func (f *ConnFlags) Options(g *cli.Globals) (client.Options, error) {
	o := client.Options{
		URL:        f.URL,
		AllowHosts: cli.List(f.AllowHost),
		APIVersion: f.APIVersion,
		Retries:    f.Retries,
		Timeout:    f.Timeout,
	}
	if f.Retries == 0 {
		o.Retries = -1 // client.Options treats 0 as the default
	}
	if o.URL == "" {
		o.URL = g.Getenv(client.EnvURL)
	}
	if strings.TrimSpace(o.URL) == "" {
		return o, cli.Usagef("no server URL").Hint("pass --url, or set %s", client.EnvURL)
	}
	if s := strings.TrimSpace(g.Getenv(client.EnvConnectTimeout)); s != "" {
		secs, err := strconv.Atoi(s)
		if err != nil || secs <= 0 {
			return o, cli.Usagef("%s=%q: want a whole number of seconds", client.EnvConnectTimeout, s)
		}
		o.ConnectTimeout = time.Duration(secs) * time.Second
	}
	for _, file := range f.CA {
		c, err := tool.LoadFile(file, nil)
		if err != nil {
			return o, cli.Usagef("--ca: %v", err)
		}
		o.ExtraRoots = append(o.ExtraRoots, append(c.Chain, c.Certificate)...)
	}
	if f.Pins != "" {
		data, err := os.ReadFile(f.Pins)
		if err != nil {
			return o, cli.Usagef("--pins: %v", err)
		}
		if o.Pins, err = tool.ParsePins(data); err != nil {
			return o, cli.Usagef("--pins %s: %v", f.Pins, err)
		}
	}
	for _, s := range f.Pin {
		p, err := tool.ParsePin(s)
		if err != nil {
			return o, cli.Usagef("--pin: %v", err)
		}
		o.ExtraPins = append(o.ExtraPins, p)
	}
	if f.Dev {
		store, err := g.OpenStore()
		if err != nil {
			return o, err
		}
		pki, err := store.Dev()
		if err != nil {
			return o, cli.Usagef("--dev: %v", err)
		}
		o.ExtraRoots = append(o.ExtraRoots, pki.Root.Certificate)
		o.ExtraPins = append(o.ExtraPins, tool.PinOf(pki.Intermediate.Certificate, "development intermediate"))
		o.AllowHosts = append(o.AllowHosts, tool.DevHosts...)
	}
	return o, nil
}

// newClient builds the client, mapping a refused URL to exit 3.
func (f *ConnFlags) newClient(g *cli.Globals, apiVersion string) (*client.Client, error) {
	o, err := f.Options(g)
	if err != nil {
		return nil, err
	}
	if apiVersion != "" {
		o.APIVersion = apiVersion
	}
	c, err := client.New(o)
	if err != nil {
		return nil, ExitError(err)
	}
	return c, nil
}

// ExitError gives an error of package client its exit code (DESIGN §6)
// and the hints that name flags, for the commands built on the client.
func ExitError(err error) error {
	var (
		denied      *client.DeniedError
		untrusted   *client.UntrustedError
		unreachable *client.UnreachableError
		protocol    *client.ProtocolError
	)
	switch {
	case errors.As(err, &denied):
		return &cli.Error{Code: cli.ExitNo, Err: err}
	case errors.As(err, &untrusted):
		e := &cli.Error{Code: cli.ExitUntrusted, Err: err}
		var pinErr *tool.PinError
		if errors.As(err, &pinErr) {
			e.Hint("`ses certs chain URL` (with the same URL and flags) shows the chain and which pins match")
		}
		if untrusted.RefusedHost != "" {
			e.Hint("use --dev for a local ses server, or --allow-host SUFFIX")
		}
		return e
	case errors.As(err, &unreachable):
		return &cli.Error{Code: cli.ExitUnreachable, Err: err}
	case errors.As(err, &protocol):
		return &cli.Error{Code: cli.ExitProtocol, Err: err}
	}
	return cli.Usagef("%v", err)
}

// TokenFlags name the application and where the token comes from.
type TokenFlags struct {
	App       string `help:"Application id to ask an entitlement for." required:"" placeholder:"APP"`
	Token     string `help:"The token, or - for stdin (default: --token-file, else $AZ_BATCH_SOFTWARE_ENTITLEMENT_TOKEN)." placeholder:"TOKEN"`
	TokenFile string `help:"Read the token from this file." type:"path" placeholder:"FILE"`
}

// read reads the token from --token (- for stdin), --token-file or the
// Batch variable.
func (f *TokenFlags) read(g *cli.Globals) (string, error) {
	return g.ReadToken(f.Token, f.TokenFile, client.EnvToken)
}

// LeaseFlags are what acquiring a lease takes.
type LeaseFlags struct {
	ConnFlags  `embed:""`
	TokenFlags `embed:""`
	Duration   time.Duration `help:"Lease duration." default:"${default_lease}"`
}

// acquire takes the lease and returns it with the client.
func (f *LeaseFlags) acquire(g *cli.Globals) (*client.Client, *client.Lease, error) {
	token, err := f.read(g)
	if err != nil {
		return nil, nil, err
	}
	cl, err := f.newClient(g, tool.LeaseAPIVersion)
	if err != nil {
		return nil, nil, err
	}
	l, err := cl.Acquire(context.Background(), token, f.App, f.Duration)
	if err != nil {
		return nil, nil, ExitError(err)
	}
	return cl, l, nil
}
