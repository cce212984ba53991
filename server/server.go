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
	ExitAfterRequest  bool          `help:"Exit 0 once the first request to the entitlement endpoint (POST /softwareEntitlements, POST or DELETE /softwareEntitlements/ID) has been answered, whatever the answer."`
	MaxLease          time.Duration `help:"Longest lease duration granted." default:"${default_max_lease}"`
	MaxLeasesPerToken int           `help:"Most active leases one token may hold (0: the default, ${default})." default:"${default_max_leases_per_token}" placeholder:"N"`
	State             string        `help:"Keep leases and the usage record in this database file (created 0600), restored on start (default: in memory)." type:"path" placeholder:"FILE"`
	UsageRecords      int           `help:"Records of the usage record kept in memory, the newest (default: ${default})." default:"${default_usage_records}" placeholder:"N"`
	UsageKeep         int           `help:"Records the --state file keeps, the oldest giving way; 0 keeps all (default: ${default})." default:"${default_usage_keep}" placeholder:"N"`
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
	if c.UsageRecords < 0 || c.UsageKeep < 0 {
		return cli.Usagef("--usage-records and --usage-keep must not be negative")
	}
	leases, usage := NewLeases(), NewUsage(c.UsageRecords, g.Now())
	if c.State != "" {
		if leases, usage, err = OpenState(c.State, c.UsageRecords, c.UsageKeep, g.Now()); err != nil {
			return stateError(c.State, err)
		}
	}
	defer leases.Close()

	listeners, err := listen(u.Hostname(), u.Port())
	if err != nil {
		return listenError(c.URL, err)
	}
	port := listeners[0].Addr().(*net.TCPAddr).Port
	u.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(port))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := HandlerConfig{
		Verifier: v, MaxLease: c.MaxLease, MaxLeasesPerToken: c.MaxLeasesPerToken, Leases: leases, Usage: usage, Log: g.Log,
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
	handler := NewHandler(cfg)
	expiring := make(chan struct{})
	go func() {
		defer close(expiring)
		expireLeases(ctx, leases, g.Log)
	}()
	defer func() {
		// Before the file closes, which writes what is queued: nothing
		// queued after.
		stop()
		<-expiring
	}()
	srv := &http.Server{
		Handler:           handler,
		TLSConfig:         tlsConfig(conn),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          log.New(serverLog{g.Log}, "", 0),
	}
	printBanner(g, banner{url: u.String(), conn: conn, sign: sign, enc: v.Decrypt, dev: c.devTrust(g)})
	if c.State != "" {
		g.Log.Info().Str("state", c.State).Int("leases", usage.ActiveLeases()).Msg("state restored: active leases")
	}
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

// banner is what the server tells a person when it starts.
type banner struct {
	url             string
	conn, sign, enc *tool.Credential
	// dev is set when the server uses the development PKI throughout, so
	// that its root is what to trust and `ses client --dev` works as is.
	dev *devTrust
}

// devTrust is how a client on this machine trusts the server: the
// development root's certificate file, and the --store flag the commands
// need, if any.
type devTrust struct {
	root  string
	store string
}

// devTrust reports the development PKI's root when the server's TLS
// certificate, and the certificates tokens are checked with, are all the
// development ones.
func (c *Cmd) devTrust(g *cli.Globals) *devTrust {
	for _, spec := range []string{c.Connection, c.Sign, c.Encrypt} {
		if !strings.EqualFold(strings.TrimSpace(spec), "dev") {
			return nil
		}
	}
	store, err := g.OpenStore()
	if err != nil {
		return nil
	}
	pki, err := store.Dev()
	if err != nil || pki.Root.File == "" {
		return nil
	}
	t := &devTrust{root: pki.Root.File}
	if g.Store != "" && g.Getenv("SES_HOME") != g.Store {
		t.store = " --store " + shellQuote(store.Dir)
	}
	return t
}

// printBanner tells a person where the server is, what to pin, what to
// trust, and a command that proves it answers.
func printBanner(g *cli.Globals, b banner) {
	fmt.Fprintf(g.Stdout, "ses server listening on %s\n", b.url)
	fmt.Fprintf(g.Stdout, "  status page   %s%s\n", b.url, tool.PathStatus)
	fmt.Fprintf(g.Stdout, "  tls leaf      %s  %s\n", b.conn.Thumbprint(), b.conn.Certificate.Subject.CommonName)
	for _, c := range b.conn.Chain {
		fmt.Fprintf(g.Stdout, "  tls chain     %s  %s  (pin this)\n", tool.ThumbprintOf(c), c.Subject.CommonName)
	}
	fmt.Fprintf(g.Stdout, "  signing       %s\n", thumbOrNone(b.sign))
	fmt.Fprintf(g.Stdout, "  encryption    %s\n", thumbOrNone(b.enc))
	if b.dev == nil {
		return
	}
	fmt.Fprintf(g.Stdout, "  trust         %s  (curl --cacert, or a browser's authorities)\n", b.dev.root)
	fmt.Fprintf(g.Stdout, "  try           ses%s client --dev --url %s --token \"$(ses%s token --app contosoapp)\" --app contosoapp\n",
		b.dev.store, b.url, b.dev.store)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:@%=,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// stateError reports a --state file the server cannot use, with what to
// do about it.
func stateError(path string, err error) error {
	var (
		damaged *DamagedError
		link    *cli.SymlinkError
	)
	switch {
	case errors.As(err, &damaged):
		return cli.Usagef("--state %s is damaged: %v", path, damaged.Err).
			Hint("move it aside (mv %s %s.damaged) to start with no leases, or name another file with --state", shellQuote(path), shellQuote(path))
	case errors.As(err, &link):
		return cli.Usagef("--state: %v", err).Hint("name the file the link points to, or another file")
	}
	return cli.Usagef("--state: %v", err).Hint("name another file with --state, or leave it out to keep leases in memory")
}

// listenError reports a --url the server cannot listen on; a port in use
// gets a hint.
func listenError(u string, err error) error {
	e := cli.Usagef("--url %s: %v", u, err)
	if errors.Is(err, syscall.EADDRINUSE) {
		e.Hint("another program listens there: another ses server? Stop it, or let the system pick a free port with --url https://localhost:0")
	}
	return e
}

// expireInterval is how often leases past their expiry are ended, so the
// usage record and the status page hear of it within a second.
const expireInterval = time.Second

// expireLeases ends expired leases every expireInterval until ctx is done;
// their records are committed to the lease file, if any, before the next.
func expireLeases(ctx context.Context, leases *Leases, log zerolog.Logger) {
	t := time.NewTicker(expireInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if err := leases.Expire(now); err != nil {
				log.Error().Err(err).Msg("usage record not written")
			}
		}
	}
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
