// Package server implements `ses server`: an HTTPS emulator of the Batch
// software entitlement endpoint (DESIGN §5), with leases and a status page.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/server/acs"
	"github.com/seskit/ses/tool"
)

// Cmd is `ses server`.
type Cmd struct {
	URL               string `help:"Where to listen: https://HOST:PORT (port 0 picks a free one) (default: ${default})." default:"https://localhost:4443" placeholder:"URL"`
	Connection        string `help:"TLS certificate: a file, a thumbprint, or dev for the development TLS certificate (default: ${default})." default:"dev" placeholder:"CERT"`
	ConnectionKey     string `help:"The --connection certificate's private key, when it is in another file than the certificate and not beside it as NAME-key.pem or NAME.key." type:"path" placeholder:"FILE"`
	cli.KeyFlags      `embed:""`
	Audience          string        `help:"Audience tokens must carry (default: ${default})." default:"${default_audience}" placeholder:"URL"`
	Issuer            string        `help:"Issuer tokens must carry (default: ${default})." default:"${default_issuer}" placeholder:"URL"`
	ExitAfterRequest  bool          `help:"Exit 0 after the first entitlement request has been answered."`
	MaxLease          time.Duration `help:"Longest lease duration granted." default:"${default_max_lease}"`
	MaxLeasesPerToken int           `help:"Most active leases one token may hold (0: the default, ${default})." default:"${default_max_leases_per_token}" placeholder:"N"`
	State             string        `help:"Keep leases in this database file, restored on start (default: in memory)." type:"path" placeholder:"FILE"`
	ACS               string        `name:"acs" help:"Serve a WRAP v0.9 token issuer and the management API, configured by this namespace file (YAML or JSON)." type:"path" placeholder:"FILE"`
}

// DefaultMaxLease is the longest lease granted unless --max-lease says.
const DefaultMaxLease = time.Hour

// drainTimeout bounds how long a stopping server waits for requests in
// flight.
const drainTimeout = 10 * time.Second

// Run serves until SIGINT or SIGTERM (or the first entitlement request with
// --exit-after-request).
func (c *Cmd) Run(g *cli.Globals) error {
	// Every problem with the address and the certificates is reported at once.
	u, uerr := parseListenURL(c.URL)
	host := ""
	if uerr == nil {
		host = u.Hostname()
	}
	conn, cerr := g.LoadCert(cli.CertFlag{Flag: "--connection", Spec: c.Connection, KeyFlag: "--connection-key", KeyFile: c.ConnectionKey,
		Purpose: tool.PurposeServerAuth, NeedKey: true, Host: host})
	switch {
	case strings.TrimSpace(c.Connection) == "":
		cerr = cli.Usagef("--connection: a TLS certificate is required").Hint("give a thumbprint, a file, or dev")
	case cerr == nil && conn == nil:
		cerr = cli.Usagef("--connection none: the server needs a TLS certificate")
	}
	v, sign, verr := c.Verifier(g, c.Issuer, c.Audience)
	if err := errors.Join(uerr, cerr, verr); err != nil {
		return err
	}
	var err error
	var ns *acs.Namespace
	if c.ACS != "" {
		if ns, err = acs.Load(c.ACS); err != nil {
			return acsError(err)
		}
	}
	if c.MaxLeasesPerToken < 0 {
		return cli.Usagef("--max-leases-per-token %d: want a positive number", c.MaxLeasesPerToken)
	}
	if c.MaxLeasesPerToken == 0 {
		c.MaxLeasesPerToken = DefaultMaxLeasesPerToken
	}
	leases := NewLeases()
	if c.State != "" {
		if leases, err = OpenLeases(c.State); err != nil {
			return cli.Usagef("--state: %v", err).Hint("name another file with --state, or leave it out to keep leases in memory")
		}
	}
	defer leases.Close()

	listeners, err := listen(u.Hostname(), u.Port())
	if err != nil {
		return cli.Usagef("--url %s: %v", c.URL, err)
	}
	port := listeners[0].Addr().(*net.TCPAddr).Port
	u.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(port))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := HandlerConfig{
		Verifier: v, MaxLease: c.MaxLease, MaxLeasesPerToken: c.MaxLeasesPerToken, Leases: leases, Log: g.Log,
		Version: g.Version, AdminAudience: u.String() + tool.PathAdmin,
		Settings: [][2]string{
			{"url", u.String()}, {"tls certificate", conn.Thumbprint().String()},
			{"signing", thumbOrNone(sign)}, {"encryption", thumbOrNone(v.Decrypt)},
			{"issuer", c.Issuer}, {"audience", c.Audience},
			{"max lease", c.MaxLease.String()}, {"max leases per token", strconv.Itoa(c.MaxLeasesPerToken)},
			{"state", orMemory(c.State)},
		},
	}
	if ns != nil {
		svc := acs.NewService(ns, acs.Options{Path: c.ACS, Endpoint: u.String() + tool.PathWRAP})
		cfg.Auth = svc
		cfg.Settings = append(cfg.Settings, [2]string{"WRAP issuer", u.String() + tool.PathWRAP}, [2]string{"admin audience", cfg.AdminAudience})
		// SIGHUP, or a change to the file, puts a new namespace in force;
		// requests in flight and leases are not touched.
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		go svc.Watch(ctx, acsWatchInterval, hup, func(err error) {
			if err != nil {
				g.Log.Error().Err(err).Str("acs", c.ACS).Msg("namespace not reloaded: the one in force stays")
				return
			}
			g.Log.Info().Str("acs", c.ACS).Msg("namespace reloaded")
		})
	}
	if c.ExitAfterRequest {
		cfg.Entitled = stop
	}
	srv := &http.Server{
		Handler:           NewHandler(cfg),
		TLSConfig:         tlsConfig(conn),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          log.New(serverLog{g.Log}, "", 0),
	}
	printBanner(g, u.String(), conn, sign, v.Decrypt)
	g.Log.Info().Str("url", u.String()).Str("tls", conn.Thumbprint().String()).
		Str("sign", thumbOrNone(sign)).Str("encrypt", thumbOrNone(v.Decrypt)).
		Str("issuer", c.Issuer).Str("audience", c.Audience).Str("max_lease", c.MaxLease.String()).
		Str("state", orMemory(c.State)).Str("acs", c.ACS).Str("version", cfg.Version).Msg("server started")

	errs := make(chan error, len(listeners))
	for _, l := range listeners {
		go func() { errs <- srv.ServeTLS(l, "", "") }()
	}
	select {
	case err := <-errs:
		return cli.WithCode(cli.ExitUsage, err)
	case <-ctx.Done():
	}
	stop() // a second signal ends the process at once
	g.Log.Info().Msg("stopping: draining requests in flight")
	drain, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	if err := srv.Shutdown(drain); err != nil {
		g.Log.Warn().Err(err).Msg("requests still in flight were cut off")
	}
	g.Log.Info().Msg("server stopped")
	return nil
}

// acsWatchInterval is how often the --acs file is looked at for changes.
const acsWatchInterval = 250 * time.Millisecond

// acsError reports a namespace file --acs cannot load.
func acsError(err error) error {
	e := cli.Usagef("--acs: %v", err)
	var short *tool.ShortKeyError
	if errors.As(err, &short) {
		e.Hint("`ses namespace issuer rollover NAME -f FILE` (or `policy rollover`) replaces a short key with a new one; `ses token swt --new-key` makes one")
	}
	return e
}

// parseListenURL checks --url: https, a host, a port, nothing else.
func parseListenURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return nil, cli.Usagef("--url %q: %v", s, err)
	case u.Scheme != "https":
		return nil, cli.Usagef("--url %q: the server speaks https only", s).Hint("for example --url https://localhost:4443")
	case u.Hostname() == "":
		return nil, cli.Usagef("--url %q has no host", s)
	case u.Port() == "":
		return nil, cli.Usagef("--url %q has no port", s).Hint("for example --url https://localhost:4443, or port 0 for a free one")
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.User != nil, u.Fragment != "":
		return nil, cli.Usagef("--url %q: give only scheme, host and port", s)
	}
	u.Path = ""
	return u, nil
}

// listen opens the listeners for host: "localhost" means both loopback
// addresses, on the same port. Port "0" picks a free one.
func listen(host, port string) ([]net.Listener, error) {
	hosts := []string{host}
	if host == "localhost" {
		hosts = []string{"127.0.0.1", "::1"}
	}
	var ls []net.Listener
	for i, h := range hosts {
		l, err := net.Listen("tcp", net.JoinHostPort(h, port))
		if err != nil {
			if i > 0 {
				continue // IPv6 loopback may be missing; IPv4 is enough
			}
			return nil, err
		}
		if port == "0" {
			port = strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
		}
		ls = append(ls, l)
	}
	return ls, nil
}

// tlsConfig serves the full chain: leaf and intermediates.
func tlsConfig(conn *tool.Credential) *tls.Config {
	chain := [][]byte{conn.Certificate.Raw}
	for _, c := range conn.Chain {
		chain = append(chain, c.Raw)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{{Certificate: chain, PrivateKey: conn.Key, Leaf: conn.Certificate}},
	}
}

// printBanner tells a person where the server is and what to pin.
func printBanner(g *cli.Globals, u string, conn, sign, enc *tool.Credential) {
	fmt.Fprintf(g.Stdout, "ses server listening on %s\n", u)
	fmt.Fprintf(g.Stdout, "  tls leaf      %s  %s\n", conn.Thumbprint(), conn.Certificate.Subject.CommonName)
	for _, c := range conn.Chain {
		fmt.Fprintf(g.Stdout, "  tls chain     %s  %s  (pin this)\n", tool.ThumbprintOf(c), c.Subject.CommonName)
	}
	fmt.Fprintf(g.Stdout, "  signing       %s\n", thumbOrNone(sign))
	fmt.Fprintf(g.Stdout, "  encryption    %s\n", thumbOrNone(enc))
}

// serverLog takes net/http's own messages (TLS handshake failures of
// clients, mostly) into the structured log, at debug level: a client that
// does not trust the chain is its own business.
type serverLog struct{ log zerolog.Logger }

func (s serverLog) Write(p []byte) (int, error) {
	s.log.Debug().Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}

func thumbOrNone(c *tool.Credential) string {
	if c == nil {
		return "none"
	}
	return c.Thumbprint().String()
}

func orMemory(s string) string {
	if s == "" {
		return "in memory"
	}
	return s
}
