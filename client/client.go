package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/seskit/ses/tool"
)

// The variables Batch gives a task, and the reference client's connect
// timeout in seconds. The package reads none of them: a program passes
// their values in Options and to Check.
const (
	EnvURL            = "AZ_BATCH_ACCOUNT_URL"
	EnvToken          = "AZ_BATCH_SOFTWARE_ENTITLEMENT_TOKEN"
	EnvConnectTimeout = "AZ_BATCH_SES_CURLOPT_CONNECTTIMEOUT"
)

// The defaults of Options.
const (
	DefaultRetries = 5
	DefaultTimeout = 60 * time.Second
)

// maxResponse caps the response bodies read.
const maxResponse = 64 << 10

// defaultConnectTimeout bounds each connection attempt unless
// Options.ConnectTimeout says.
const defaultConnectTimeout = 30 * time.Second

// Options configure a Client. The zero value of each field is the safe
// default.
type Options struct {
	// URL is the Batch account endpoint, e.g.
	// https://demo.westus.batch.azure.com (AZ_BATCH_ACCOUNT_URL).
	URL string
	// AllowHosts adds host patterns to the Batch hosts: ".example.com"
	// allows hosts below it, "example.com" that host and those below it.
	AllowHosts []string
	// Pins replaces the built-in pins when not nil.
	Pins []tool.Pin
	// ExtraPins are added to the pins.
	ExtraPins []tool.Pin
	// PinnedHosts also accepts a host outside the Batch hosts and
	// AllowHosts, on one condition: a certificate of its verified chain
	// matches one of ExtraPins (see pinsFor).
	PinnedHosts bool
	// ExtraRoots are trusted besides the system roots.
	ExtraRoots []*x509.Certificate
	// HostRoots are trusted only for the hosts each names, never for a
	// Batch account host: the development root, trusted for the
	// development hosts.
	HostRoots []HostRoot
	// APIVersion defaults to tool.DefaultAPIVersion.
	APIVersion string
	// Retries is how many times a retryable failure is tried again
	// (0: DefaultRetries; negative means none).
	Retries int
	// Timeout bounds a whole call, retries included (0: DefaultTimeout).
	Timeout time.Duration
	// ConnectTimeout bounds each connection attempt (0: 30s).
	ConnectTimeout time.Duration
	// Backoff is the first retry's delay, doubled each time, with jitter
	// (default 500ms).
	Backoff time.Duration
	// Now tells the time for pin expiry; nil means time.Now.
	Now func() time.Time
	// Dial replaces the dialer, for tests.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	// OnAttempt, when set, is told of each attempt before it is made.
	OnAttempt func(Attempt)
	// OnHandshake, when set, is told of each certificate chain a server
	// presents and whether it was trusted.
	OnHandshake func(Handshake)
	// OnRetry, when set, is told of each retry before its wait. The
	// package never prints: a program that wants to say what the client
	// is doing says it here.
	OnRetry func(Retry)
}

// The callbacks of Options may be called from several goroutines at once
// when one Client is used from several.

// HostRoot is a root certificate trusted for some hosts only.
type HostRoot struct {
	Root *x509.Certificate
	// Hosts are the DNS names and IP addresses Root is trusted for, each
	// exactly (no suffixes); a Batch account host never, even when named.
	Hosts []string
}

// Attempt is one try of a call, for Options.OnAttempt.
type Attempt struct {
	// Number counts the attempts of the call from 1.
	Number int
	Method string
	URL    string
}

// Handshake is a certificate chain a server presented, for
// Options.OnHandshake.
type Handshake struct {
	Host string
	// Chain is the chain as the server sent it, leaf first.
	Chain []*x509.Certificate
	// Pin is the pin that matched when the chain was trusted.
	Pin *tool.Pin
	// Err is why the chain was not trusted; nil when it was.
	Err error
}

// Retry is a failed attempt that will be tried again, for Options.OnRetry.
type Retry struct {
	// Attempt is the number of the attempt that failed, from 1, of at
	// most Retries+1.
	Attempt int
	Retries int
	// Err is why it failed.
	Err error
	// Wait is how long the client waits before the next attempt.
	Wait time.Duration
}

// Client asks one endpoint for entitlements.
type Client struct {
	opts    Options
	base    *url.URL
	version tool.APIVersion
	http    *http.Client
	host    string
}

// New checks the URL and the host against the rules and returns a client.
// A refused URL or host is an *UntrustedError: nothing has been sent.
func New(o Options) (*Client, error) {
	if o.APIVersion == "" {
		o.APIVersion = tool.DefaultAPIVersion
	}
	if o.Retries == 0 {
		o.Retries = DefaultRetries
	} else if o.Retries < 0 {
		o.Retries = 0
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = defaultConnectTimeout
	}
	if o.Backoff <= 0 {
		o.Backoff = 500 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	v, ok := tool.LookupAPIVersion(o.APIVersion)
	if !ok {
		return nil, fmt.Errorf("api-version %q is not one of the published versions", o.APIVersion)
	}
	if err := tool.CheckHostPatterns(o.AllowHosts); err != nil {
		return nil, err
	}
	base, err := ParseURL(o.URL)
	if err != nil {
		return nil, err
	}
	host, err := tool.CheckHost(base.Hostname(), o.AllowHosts)
	if err != nil {
		var he *tool.HostError
		notListed := errors.As(err, &he) && he.NotListed
		pinned, ok := pinnedHost(base.Hostname(), o)
		if notListed && ok {
			host, err = pinned, nil
		}
	}
	if err != nil {
		u := &UntrustedError{Err: err}
		var he *tool.HostError
		if errors.As(err, &he) && he.NotListed {
			u.RefusedHost = base.Hostname()
		}
		return nil, u
	}
	// Requests go to the host as the rules read it.
	if port := base.Port(); port != "" {
		base.Host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		base.Host = "[" + host + "]"
	} else {
		base.Host = host
	}
	hc, err := newHTTPClient(host, o)
	if err != nil {
		return nil, err
	}
	return &Client{opts: o, base: base, version: v, host: host, http: hc}, nil
}

// newHTTPClient is the HTTP client every call to host makes its requests
// with: TLSConfig, o's dialer and timeouts, and no redirects followed.
func newHTTPClient(host string, o Options) (*http.Client, error) {
	tlsConf, err := TLSConfig(host, o)
	if err != nil {
		return nil, err
	}
	dial := o.Dial
	if dial == nil {
		dial = (&net.Dialer{Timeout: o.ConnectTimeout}).DialContext
	}
	return &http.Client{
		Transport: &http.Transport{
			TLSClientConfig:       tlsConf,
			DialContext:           dial,
			TLSHandshakeTimeout:   o.ConnectTimeout,
			ResponseHeaderTimeout: o.Timeout,
			ForceAttemptHTTP2:     false,
			Proxy:                 http.ProxyFromEnvironment,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

// ParseURL checks an endpoint URL: https only; no query, fragment or user
// information; a path prefix is kept, without a trailing slash.
func ParseURL(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, &UntrustedError{Reason: "no URL given"}
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return nil, &UntrustedError{Reason: fmt.Sprintf("URL %q does not parse", s), Err: err}
	case u.Scheme != "https":
		return nil, &UntrustedError{Reason: fmt.Sprintf("URL %q is not https", s)}
	case u.User != nil:
		return nil, &UntrustedError{Reason: fmt.Sprintf("URL %q carries user information", u.Redacted())}
	case u.RawQuery != "" || u.ForceQuery:
		return nil, &UntrustedError{Reason: fmt.Sprintf("URL %q has a query", s)}
	case u.Fragment != "" || strings.Contains(s, "#"):
		return nil, &UntrustedError{Reason: fmt.Sprintf("URL %q has a fragment", s)}
	case u.Hostname() == "":
		return nil, &UntrustedError{Reason: fmt.Sprintf("URL %q has no host", s)}
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// systemRoots is the system's certificate pool, read on first need: reading
// it costs more than all the rest of a check's start-up, and a server that
// the extra roots and the pins trust (a development server) never needs
// it.
var systemRoots = sync.OnceValue(func() *x509.CertPool {
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		return x509.NewCertPool()
	}
	return roots
})

// extraRoots are the roots trusted for host besides the system's:
// o.ExtraRoots and the o.HostRoots that name host.
func extraRoots(host string, o Options) []*x509.Certificate {
	return append(append([]*x509.Certificate{}, o.ExtraRoots...), hostRoots(host, o.HostRoots)...)
}

// Roots is the pool a chain presented for host must verify to: the system
// roots, o.ExtraRoots and the o.HostRoots that name host.
func Roots(host string, o Options) *x509.CertPool {
	return withCerts(systemRoots().Clone(), extraRoots(host, o))
}

// VerifyChain verifies the chain a server presented (its leaf first) to
// roots, for host, at the time at, as crypto/tls would: what TLSConfig and
// `ses certs chain` judge a chain by.
func VerifyChain(peer []*x509.Certificate, host string, roots *x509.CertPool, at time.Time) ([][]*x509.Certificate, error) {
	if len(peer) == 0 {
		return nil, errors.New("the server presented no certificate")
	}
	inters := withCerts(x509.NewCertPool(), peer[1:])
	return peer[0].Verify(x509.VerifyOptions{DNSName: host, Roots: roots, Intermediates: inters, CurrentTime: at})
}

// withCerts adds certs to pool and returns it.
func withCerts(pool *x509.CertPool, certs []*x509.Certificate) *x509.CertPool {
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool
}

// TLSConfig is the TLS configuration every ses client uses for host:
// TLS 1.2 or later, the chain verified to Roots (host name, validity,
// server authentication, as crypto/tls verifies it), and then, inside the
// handshake and so before any request byte is sent, the pin check.
// o.OnHandshake hears of every chain that verifies.
//
// The chain is verified in VerifyConnection, first to the extra roots
// alone and, unless that and the pins trust it, to all of Roots: the
// decision is the one Roots gives, since a chain that verifies and is
// pinned through a part of the pool is so through the whole of it, but the
// system roots are read only when needed.
func TLSConfig(host string, o Options) (*tls.Config, error) {
	extras := extraRoots(host, o)
	extra := withCerts(x509.NewCertPool(), extras)
	all := sync.OnceValue(func() *x509.CertPool { return withCerts(systemRoots().Clone(), extras) })
	pins := pinsFor(host, o)
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		ServerName: host,
		// Verified below, never skipped: VerifyConnection runs either way.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			at := now()
			verify := func(roots *x509.CertPool) ([][]*x509.Certificate, error) {
				return VerifyChain(cs.PeerCertificates, host, roots, at)
			}
			var (
				pin    *tool.Pin
				chains [][]*x509.Certificate
				err    error
			)
			if len(extras) > 0 {
				if chains, err = verify(extra); err == nil {
					pin, err = tool.CheckPins(chains, host, pins, at)
				}
			}
			if len(extras) == 0 || err != nil {
				if chains, err = verify(all()); err != nil {
					return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
				}
				pin, err = tool.CheckPins(chains, host, pins, at)
			}
			if o.OnHandshake != nil {
				o.OnHandshake(Handshake{Host: host, Chain: cs.PeerCertificates, Pin: pin, Err: err})
			}
			return err
		},
	}, nil
}

// hostRoots are the roots of rs trusted for host: those that name it,
// unless it is a Batch account host.
func hostRoots(host string, rs []HostRoot) []*x509.Certificate {
	h, err := tool.CanonicalHost(host)
	if err != nil || tool.IsBatchHost(h) {
		return nil
	}
	var out []*x509.Certificate
	for _, r := range rs {
		for _, name := range r.Hosts {
			if n, err := tool.CanonicalHost(name); err == nil && n == h {
				out = append(out, r.Root)
				break
			}
		}
	}
	return out
}

// endpoint joins the base path and the request path without a double slash.
func (c *Client) endpoint(path string) string {
	u := *c.base
	u.Path = c.base.Path + path
	u.RawQuery = url.Values{tool.QueryAPIVersion: {c.version.Name}}.Encode()
	return u.String()
}

// Check asks whether token entitles app. Approval is an *Entitlement; a
// "no" is a *DeniedError; see also *UntrustedError, *UnreachableError and
// *ProtocolError.
func (c *Client) Check(ctx context.Context, token, app string) (*Entitlement, error) {
	if c.version.Lease {
		return nil, fmt.Errorf("api-version %s is for leases: use Acquire", c.version.Name)
	}
	status, body, err := c.do(ctx, http.MethodPost, tool.PathEntitlements, tool.EntitlementRequest{Token: token, ApplicationID: app})
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, refusal(status, body, false)
	}
	return decodeEntitlement(body, c.version)
}

// Acquire takes a lease for app of the given duration (leasing
// api-version).
func (c *Client) Acquire(ctx context.Context, token, app string, d time.Duration) (*Lease, error) {
	status, body, err := c.leaseCall(ctx, http.MethodPost, tool.PathEntitlements,
		tool.EntitlementRequest{Token: token, ApplicationID: app, Duration: tool.FormatISODuration(d)})
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, refusal(status, body, true)
	}
	return decodeAcquired(body)
}

// leasePath is the path of lease id.
func leasePath(id string) string { return tool.PathEntitlements + "/" + url.PathEscape(id) }

// checkLeaseID refuses an id that is not a lease id, which would change
// the request's path.
func checkLeaseID(id string) error {
	if !tool.IsLeaseID(id) {
		return fmt.Errorf("lease id %q: %w", id, ErrLeaseID)
	}
	return nil
}

// Renew extends lease id by d and returns its new expiry. An id that is
// not a lease id is an error wrapping ErrLeaseID, and nothing is sent.
func (c *Client) Renew(ctx context.Context, id string, d time.Duration) (time.Time, error) {
	if err := checkLeaseID(id); err != nil {
		return time.Time{}, err
	}
	status, body, err := c.leaseCall(ctx, http.MethodPost, leasePath(id), tool.EntitlementRequest{Duration: tool.FormatISODuration(d)})
	if err != nil {
		return time.Time{}, err
	}
	if status != http.StatusOK {
		return time.Time{}, refusal(status, body, true)
	}
	return decodeRenewed(body)
}

// Release ends lease id; releasing it twice is not an error. An id that
// is not a lease id is an error wrapping ErrLeaseID, and nothing is sent.
func (c *Client) Release(ctx context.Context, id string) error {
	if err := checkLeaseID(id); err != nil {
		return err
	}
	status, body, err := c.leaseCall(ctx, http.MethodDelete, leasePath(id), nil)
	if err != nil {
		return err
	}
	if status != http.StatusNoContent && status != http.StatusOK {
		return refusal(status, body, true)
	}
	return nil
}

func (c *Client) leaseCall(ctx context.Context, method, path string, body any) (int, []byte, error) {
	if !c.version.Lease {
		return 0, nil, fmt.Errorf("leases need api-version %s, not %s", tool.LeaseAPIVersion, c.version.Name)
	}
	return c.do(ctx, method, path, body)
}

// do sends one call, retrying connection failures, timeouts, 429 and 5xx
// with exponential backoff and jitter, never a TLS or pin failure, a 4xx or
// a redirect.
func (c *Client) do(ctx context.Context, method, path string, body any) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	var payload []byte
	if body != nil {
		payload, _ = json.Marshal(body)
	}
	for attempt := 1; ; attempt++ {
		status, data, err := c.once(ctx, attempt, method, path, payload)
		switch {
		case err == nil && status != http.StatusTooManyRequests && status < 500:
			return status, data, nil
		case err != nil && !retryable(err):
			return 0, nil, err
		case err == nil:
			err = fmt.Errorf("status %d %s", status, http.StatusText(status))
		}
		if attempt > c.opts.Retries {
			return 0, nil, &UnreachableError{Attempts: attempt, Err: err}
		}
		delay := c.opts.Backoff << (attempt - 1)
		delay = delay/2 + rand.N(delay/2+1) // jitter: between half and all of it
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < delay {
			// No time left for another attempt: say so now.
			return 0, nil, &UnreachableError{Attempts: attempt, Err: err}
		}
		if c.opts.OnRetry != nil {
			c.opts.OnRetry(Retry{Attempt: attempt, Retries: c.opts.Retries, Err: err, Wait: delay})
		}
		select {
		case <-ctx.Done():
			return 0, nil, &UnreachableError{Attempts: attempt, Err: err}
		case <-time.After(delay):
		}
	}
}

func (c *Client) once(ctx context.Context, attempt int, method, path string, payload []byte) (int, []byte, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	target := c.endpoint(path)
	if c.opts.OnAttempt != nil {
		c.opts.OnAttempt(Attempt{Number: attempt, Method: method, URL: target})
	}
	var hs handshakeResult
	req, err := http.NewRequestWithContext(hs.trace(ctx), method, target, body)
	if err != nil {
		return 0, nil, err
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json; odata=minimalmetadata")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, hs.classify(err, c.host, c.opts.OnHandshake)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return 0, nil, err
	}
	if len(data) > maxResponse {
		return 0, nil, &ProtocolError{Status: resp.StatusCode, Msg: fmt.Sprintf("the body is larger than %d bytes", maxResponse)}
	}
	return resp.StatusCode, data, nil
}

// handshakeResult keeps the error of the TLS handshake a request made, as
// net/http's trace reports it.
type handshakeResult struct {
	mu  sync.Mutex
	err error
}

// trace returns ctx with a trace that records the handshake's error.
func (h *handshakeResult) trace(ctx context.Context) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		TLSHandshakeDone: func(_ tls.ConnectionState, err error) {
			if err != nil {
				h.mu.Lock()
				h.err = err
				h.mu.Unlock()
			}
		},
	})
}

// classify turns the failure of a request into the client's errors. A
// failed TLS handshake is an *UntrustedError, never retried, whatever
// failed in it (the chain, the pins, the protocol version, an alert, a
// record that is not TLS), unless the connection under it failed (it was
// reset or closed, or timed out): that is a connection failure, retried.
// onHandshake hears of a chain that did not verify.
func (h *handshakeResult) classify(err error, host string, onHandshake func(Handshake)) error {
	h.mu.Lock()
	hsErr := h.err
	h.mu.Unlock()
	var verifyErr *tls.CertificateVerificationError
	if onHandshake != nil && errors.As(err, &verifyErr) {
		onHandshake(Handshake{Host: host, Chain: verifyErr.UnverifiedCertificates, Err: verifyErr.Err})
	}
	if u := untrusted(err); u != nil {
		return u
	}
	if hsErr == nil || connectionFailure(hsErr) {
		return err
	}
	if u := untrusted(hsErr); u != nil {
		return u
	}
	return &UntrustedError{Reason: "the TLS handshake failed", Err: hsErr}
}

// untrusted names the TLS and pin failures it recognises, or returns nil.
func untrusted(err error) *UntrustedError {
	var pinErr *tool.PinError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verifyErr *tls.CertificateVerificationError
	var recordErr tls.RecordHeaderError
	switch {
	case errors.As(err, &pinErr):
		return &UntrustedError{Reason: "pin check failed", Err: pinErr}
	case errors.As(err, &hostErr):
		return &UntrustedError{Reason: "the certificate is not for this host", Err: hostErr}
	case errors.As(err, &unknownCA):
		return &UntrustedError{Reason: "the certificate chain is not trusted", Err: unknownCA}
	case errors.As(err, &invalid):
		return &UntrustedError{Reason: "the certificate is not valid", Err: invalid}
	case errors.As(err, &verifyErr):
		return &UntrustedError{Reason: "the certificate did not verify", Err: verifyErr}
	case errors.As(err, &recordErr):
		return &UntrustedError{Reason: "the server does not speak TLS", Err: recordErr}
	}
	return nil
}

// connectionFailure reports whether a handshake failed because the
// connection under it did: closed, reset or timed out.
func connectionFailure(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &ne) && ne.Timeout()
}

func retryable(err error) bool {
	var u *UntrustedError
	var p *ProtocolError
	return !errors.As(err, &u) && !errors.As(err, &p)
}
