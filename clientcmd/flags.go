package clientcmd

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
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
	AllowHost  []string      `help:"Allow hosts under this suffix (.example.com), this name and those under it (example.com), or this exact IP address, besides the Batch hosts (repeatable)." placeholder:"HOST"`
	CA         []string      `help:"Trust this CA certificate file besides the system roots (repeatable)." type:"path" placeholder:"FILE"`
	Pins       string        `help:"Replace the built-in pins with this JSON file." type:"path" placeholder:"FILE"`
	Pin        []string      `help:"Also pin this certificate: SHA-1 or SHA-256 thumbprint, optionally =COMMON NAME (repeatable)." placeholder:"THUMBPRINT[=CN]"`
	Dev        bool          `help:"Allow localhost, 127.0.0.1, ::1 and the development TLS certificate's names, trust the store's development root for them (never for a Batch host), pin its intermediate."`
	Retries    int           `help:"Retries of connection failures, timeouts, 429 and 5xx (default: ${default})." default:"${default_retries}"`
	Timeout    time.Duration `help:"Bound on the whole call, retries included (default: ${default})." default:"${default_timeout}"`
	APIVersion string        `help:"api-version to ask with (default: ${default})." default:"${default_api_version}" placeholder:"VERSION"`
	Quiet      bool          `help:"Print no retry or warning lines on stderr (errors still are)."`
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
	if err := tool.CheckHostPatterns(o.AllowHosts); err != nil {
		return o, cli.Usagef("--allow-host: %v", err)
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
	if account, ok := accountURL(o.URL); ok {
		f.say(g, "warning: the URL %s ends in %s, the path the client adds itself: using %s", o.URL, tool.PathEntitlements, account)
		o.URL = account
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
		pki, err := store.DevCertificates()
		if err != nil {
			return o, cli.Usagef("--dev: %v", err)
		}
		TrustDev(&o, pki)
		o.ExtraPins = append(o.ExtraPins, tool.PinOf(pki.Intermediate.Certificate, "development intermediate"))
	}
	f.observe(g, &o)
	return o, nil
}

// TrustDev makes o talk to the development hosts as `--dev` does: it
// allows them (localhost, 127.0.0.1, ::1 and the names the development
// TLS certificate is issued for) and trusts the development root for those
// hosts only, never for a Batch account host. (`--dev` pins the
// development intermediate besides.)
func TrustDev(o *client.Options, pki *tool.DevPKI) {
	hosts := slices.Clone(tool.DevHosts)
	cert := pki.TLS.Certificate
	hosts = append(hosts, cert.DNSNames...)
	for _, ip := range cert.IPAddresses {
		hosts = append(hosts, ip.String())
	}
	var dev []string
	for _, h := range hosts {
		if c, err := tool.CanonicalHost(h); err == nil && !tool.IsBatchHost(c) && !slices.Contains(dev, c) {
			dev = append(dev, c)
		}
	}
	o.AllowHosts = append(o.AllowHosts, dev...)
	o.HostRoots = append(o.HostRoots, client.HostRoot{Root: pki.Root.Certificate, Hosts: dev})
}

// accountURL recognises an endpoint pasted whole, a URL whose path ends in
// the entitlements path, and returns the account URL before it.
func accountURL(raw string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", false
	}
	path := strings.TrimRight(u.Path, "/")
	if !strings.HasSuffix(strings.ToLower(path), strings.ToLower(tool.PathEntitlements)) {
		return "", false
	}
	u.Path = path[:len(path)-len(tool.PathEntitlements)]
	u.RawPath = ""
	return u.String(), true
}

// say prints a line on stderr under the program's name unless --quiet.
func (f *ConnFlags) say(g *cli.Globals, format string, args ...any) {
	if f.Quiet {
		return
	}
	prog := g.Prog
	if prog == "" {
		prog = "ses"
	}
	fmt.Fprintf(g.Stderr, "%s: %s\n", prog, tool.Printable(fmt.Sprintf(format, args...)))
}

// observe has the client say what it is doing: a line on stderr per
// retry unless --quiet, and at debug level each attempt and each chain a
// server presents with the pin that matched.
func (f *ConnFlags) observe(g *cli.Globals, o *client.Options) {
	o.OnRetry = func(r client.Retry) {
		f.say(g, "attempt %d of %d failed, retrying in %s: %v", r.Attempt, r.Retries+1, tool.FormatDuration(r.Wait.Round(time.Millisecond)), r.Err)
	}
	o.OnAttempt = func(a client.Attempt) {
		g.Log.Debug().Int("attempt", a.Number).Str("method", a.Method).Str("url", a.URL).Msg("request")
	}
	o.OnHandshake = func(h client.Handshake) {
		ev := g.Log.Debug()
		if ev == nil {
			return
		}
		chain := make([]string, len(h.Chain))
		for i, c := range h.Chain {
			chain[i] = fmt.Sprintf("%s (%s)", c.Subject.CommonName, tool.ThumbprintOf(c))
		}
		ev = ev.Str("host", h.Host).Strs("chain", chain)
		if h.Pin != nil {
			ev.Str("pin", h.Pin.Name).Msg("server chain trusted")
		} else {
			ev.AnErr("why", h.Err).Msg("server chain refused")
		}
	}
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
		e := &cli.Error{Code: cli.ExitNo, Err: err}
		switch denied.Status {
		case http.StatusForbidden:
			e.Hint("`ses verify --app APP` with the same token explains offline what it entitles (for the server's certificates, --sign and --encrypt)")
			e.Hint("the server's log gives the reason of each denial (ses server logs it with the request)")
		case http.StatusNotFound, http.StatusConflict:
			e.Hint("`ses client lease` acquires a new lease")
		}
		return e
	case errors.As(err, &untrusted):
		e := &cli.Error{Code: cli.ExitUntrusted, Err: err}
		var pinErr *tool.PinError
		var hostErr *tool.HostError
		switch {
		case errors.As(err, &pinErr):
			e.Hint("`ses certs chain URL` (with the same URL and flags) shows the chain and which pins match")
		case untrusted.RefusedHost != "":
			e.Hint("use --dev for a local ses server, or --allow-host HOST")
		case errors.As(err, &hostErr):
			e.Hint("a Batch account URL is https://ACCOUNT.REGION.batch.azure.com")
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
	Duration   time.Duration `help:"Lease duration, e.g. 5m or PT5M (default: ${default})." default:"${default_lease}"`
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
