// Package usage implements `ses usage`: the usage record of `ses server`,
// read from its --state file or asked of a running server, summed per
// application or exported as the CSV or JSON of GET /usage.
package usage

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/server"
	"github.com/seskit/ses/tool"
)

// DefaultTimeout bounds a request to a running server unless --timeout
// says.
const DefaultTimeout = 30 * time.Second

// The formats `ses usage` prints.
const (
	FormatSummary = "summary"
	FormatCSV     = tool.FormatCSV
	FormatJSON    = tool.FormatJSON
)

// Cmd is `ses usage`.
type Cmd struct {
	State      string        `help:"Read the usage record from this --state file of ses server (not while a server holds it: then use --url)." type:"path" xor:"source" required:"" placeholder:"FILE"`
	URL        string        `help:"Ask the running ses server at this URL, e.g. https://localhost:4443." xor:"source" required:"" placeholder:"URL"`
	App        string        `help:"Only the records of this application." placeholder:"APP"`
	From       string        `help:"Only the records at or after this time (RFC 3339, yyyy-MM-ddTHH:mm, a date, or -1h from now)." placeholder:"TIME"`
	To         string        `help:"Only the records before this time." placeholder:"TIME"`
	Format     string        `help:"summary: a table per application; csv or json: the records as GET /usage answers them (default: ${default})." enum:"summary,csv,json" default:"summary"`
	Dev        bool          `help:"With --url: trust the store's development root."`
	CA         []string      `help:"With --url: trust this CA certificate file besides the system roots (repeatable)." type:"path" placeholder:"FILE"`
	AdminToken string        `help:"With --url, to a server with --acs: the WRAP access token granting Manage, as ses client wrap prints it." env:"SES_ADMIN_TOKEN" placeholder:"TOKEN"`
	Timeout    time.Duration `help:"With --url: bound on the request." default:"${default_usage_timeout}"`
}

// Run reads the record and prints it.
func (c *Cmd) Run(g *cli.Globals) error {
	var filter server.UsageFilter
	filter.App = c.App
	for _, t := range []struct {
		flag, value string
		dst         *time.Time
	}{{"--from", c.From, &filter.From}, {"--to", c.To, &filter.To}} {
		if t.value == "" {
			continue
		}
		at, err := g.ParseTime(t.flag, t.value)
		if err != nil {
			return err
		}
		*t.dst = at
	}
	var (
		rep server.UsageReport
		err error
	)
	if c.State != "" {
		rep, err = c.readState(g, filter)
	} else {
		rep, err = c.ask(g, filter)
	}
	if err != nil {
		return err
	}
	if c.Format == FormatSummary {
		return PrintSummary(g.Stdout, rep)
	}
	return server.EncodeUsage(g.Stdout, c.Format, rep)
}

// readState reads a --state file.
func (c *Cmd) readState(g *cli.Globals, filter server.UsageFilter) (server.UsageReport, error) {
	rep, err := server.ReadUsageState(c.State, filter, g.Now())
	var (
		damaged *server.DamagedError
		locked  *server.LockedError
	)
	switch {
	case errors.As(err, &damaged):
		return rep, cli.Usagef("--state %s is damaged: %v", c.State, damaged.Err)
	case errors.As(err, &locked):
		return rep, cli.Usagef("--state: %v", err).Hint("ask the server instead: ses usage --url URL")
	case err != nil:
		return rep, cli.Usagef("--state: %v", err)
	}
	return rep, nil
}

// ask gets the record from a running server's GET /usage, as JSON.
func (c *Cmd) ask(g *cli.Globals, filter server.UsageFilter) (server.UsageReport, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(c.URL), "/"))
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return server.UsageReport{}, cli.Usagef("--url %q: want the server's https URL, such as https://localhost:4443", tool.Printable(c.URL))
	}
	q := url.Values{tool.QueryFormat: {tool.FormatJSON}}
	if filter.App != "" {
		q.Set(tool.QueryApp, filter.App)
	}
	if !filter.From.IsZero() {
		q.Set(tool.QueryFrom, filter.From.UTC().Format(time.RFC3339Nano))
	}
	if !filter.To.IsZero() {
		q.Set(tool.QueryTo, filter.To.UTC().Format(time.RFC3339Nano))
	}
	u.Path += tool.PathUsage
	u.RawQuery = q.Encode()
	hc, err := c.httpClient(g)
	if err != nil {
		return server.UsageReport{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return server.UsageReport{}, cli.Usagef("--url: %v", err)
	}
	req.Header.Set("Accept", tool.ContentTypeJSON)
	if t := strings.TrimSpace(c.AdminToken); t != "" {
		if !strings.HasPrefix(t, "WRAP ") {
			t = tool.WRAPAuthorization(t)
		}
		req.Header.Set("Authorization", t)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return server.UsageReport{}, connError(c.URL, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return server.UsageReport{}, (&cli.Error{Code: cli.ExitNo, Err: fmt.Errorf("%s refused the request (401): the server runs with --acs", tool.Printable(c.URL))}).
			Hint("give the admin token: --admin-token \"$(ses client wrap --dev --url %s%s --scope %s%s --name NAME --password KEY)\"", tool.Printable(c.URL), tool.PathWRAP, tool.Printable(c.URL), tool.PathAdmin)
	case resp.StatusCode != http.StatusOK:
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return server.UsageReport{}, &cli.Error{Code: cli.ExitProtocol, Err: fmt.Errorf("%s answered %d: %s", tool.Printable(c.URL), resp.StatusCode, tool.Printable(strings.TrimSpace(string(body))))}
	}
	rep, err := server.DecodeUsage(resp.Body)
	if err != nil {
		return rep, &cli.Error{Code: cli.ExitProtocol, Err: fmt.Errorf("%s: %v", tool.Printable(c.URL), err)}
	}
	return rep, nil
}

// httpClient trusts the system roots, the --ca files and, with --dev, the
// store's development root.
func (c *Cmd) httpClient(g *cli.Globals) (*http.Client, error) {
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	for _, file := range c.CA {
		cred, err := tool.LoadFile(file, nil)
		if err != nil {
			return nil, cli.Usagef("--ca: %v", err)
		}
		roots.AddCert(cred.Certificate)
		for _, ca := range cred.Chain {
			roots.AddCert(ca)
		}
	}
	if c.Dev {
		store, err := g.OpenStore()
		if err != nil {
			return nil, err
		}
		pki, err := store.Dev()
		if err != nil {
			return nil, cli.Usagef("--dev: %v", err)
		}
		roots.AddCert(pki.Root.Certificate)
	}
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		Proxy:           http.ProxyFromEnvironment,
	}}, nil
}

// connError reports a server that could not be asked: one not trusted
// exits 3, one not reached 4.
func connError(u string, err error) error {
	var (
		unknown   x509.UnknownAuthorityError
		invalid   x509.CertificateInvalidError
		hostname  x509.HostnameError
		tlsRecord tls.RecordHeaderError
		verify    *tls.CertificateVerificationError
		opErr     *net.OpError
	)
	switch {
	case errors.As(err, &unknown), errors.As(err, &invalid), errors.As(err, &hostname), errors.As(err, &verify), errors.As(err, &tlsRecord):
		return (&cli.Error{Code: cli.ExitUntrusted, Err: fmt.Errorf("%s is not trusted: %v", tool.Printable(u), err)}).
			Hint("for a ses server with the development PKI pass --dev; else --ca FILE with the certificate that issued its TLS certificate")
	case errors.As(err, &opErr), errors.Is(err, context.DeadlineExceeded):
		return (&cli.Error{Code: cli.ExitUnreachable, Err: fmt.Errorf("%s could not be reached: %v", tool.Printable(u), err)}).
			Hint("is ses server running there? Its banner says the URL it listens on")
	}
	return &cli.Error{Code: cli.ExitUnreachable, Err: fmt.Errorf("asking %s: %v", tool.Printable(u), err)}
}

// PrintSummary writes the sums per application as a table, then the
// totals: approvals and denials of entitlement requests (lease
// acquisitions included), leases acquired, active, released and expired,
// and the time they were held.
func PrintSummary(w io.Writer, rep server.UsageReport) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "APPLICATION\tAPPROVED\tDENIED\tERRORS\tLEASES\tACTIVE\tRELEASED\tEXPIRED\tHELD")
	row := func(name string, a server.AppUsage) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", name, a.Approved, a.Denied, a.Errors, a.Leases,
			a.Active, a.Released, a.Expired, Held(a.HeldSeconds))
	}
	for _, a := range rep.Summary {
		name := a.App
		if name == "" {
			name = "(none)"
		} else if p := tool.Printable(name); p != name || strings.ContainsAny(name, " \t") {
			name = strconv.Quote(name)
		}
		row(name, a)
	}
	row("all applications", rep.Totals)
	return tw.Flush()
}

// Held writes a time held in seconds as a person reads it, to the second
// (to the tenth below a minute).
func Held(seconds float64) string {
	d := time.Duration(seconds * float64(time.Second))
	if d < time.Minute {
		return tool.FormatDuration(d.Round(100 * time.Millisecond))
	}
	return tool.FormatDuration(d.Round(time.Second))
}
