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
	"net/url"
	"strings"
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
	// ExtraRoots are trusted besides the system roots.
	ExtraRoots []*x509.Certificate
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
	base, err := ParseURL(o.URL)
	if err != nil {
		return nil, err
	}
	host := base.Hostname()
	if !tool.AllowedHost(host, o.AllowHosts) {
		suffixes := make([]string, len(tool.BatchHosts))
		for i, h := range tool.BatchHosts {
			suffixes[i] = "*" + h.Suffix
		}
		return nil, &UntrustedError{RefusedHost: host,
			Reason: fmt.Sprintf("host %s is not a Batch account host (%s) nor an allowed host", host, strings.Join(suffixes, ", "))}
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

// TLSConfig is the TLS configuration every ses client uses: TLS 1.2 or
// later, the system roots and o.ExtraRoots, host name verification, and
// then, inside the handshake and so before any request byte is sent, the
// pin check.
func TLSConfig(host string, o Options) (*tls.Config, error) {
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	for _, c := range o.ExtraRoots {
		roots.AddCert(c)
	}
	pins := o.Pins
	if pins == nil {
		pins = tool.BuiltinPins()
	}
	pins = append(append([]tool.Pin{}, pins...), o.ExtraPins...)
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		RootCAs:    roots,
		ServerName: host,
		VerifyConnection: func(cs tls.ConnectionState) error {
			_, err := tool.CheckPins(cs.VerifiedChains, host, pins, now())
			return err
		},
	}, nil
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

// Renew extends lease id by d and returns its new expiry.
func (c *Client) Renew(ctx context.Context, id string, d time.Duration) (time.Time, error) {
	status, body, err := c.leaseCall(ctx, http.MethodPost, leasePath(id), tool.EntitlementRequest{Duration: tool.FormatISODuration(d)})
	if err != nil {
		return time.Time{}, err
	}
	if status != http.StatusOK {
		return time.Time{}, refusal(status, body, true)
	}
	return decodeRenewed(body)
}

// Release ends lease id; releasing it twice is not an error.
func (c *Client) Release(ctx context.Context, id string) error {
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
	var last error
	for attempt := 0; ; attempt++ {
		status, data, err := c.once(ctx, method, path, payload)
		switch {
		case err == nil && status != http.StatusTooManyRequests && status < 500:
			return status, data, nil
		case err != nil && !retryable(err):
			return 0, nil, err
		case err == nil:
			last = fmt.Errorf("status %d", status)
		default:
			last = err
		}
		if attempt >= c.opts.Retries {
			return 0, nil, &UnreachableError{Attempts: attempt + 1, Err: last}
		}
		delay := c.opts.Backoff << attempt
		delay = delay/2 + rand.N(delay/2+1) // jitter: between half and all of it
		select {
		case <-ctx.Done():
			return 0, nil, &UnreachableError{Attempts: attempt + 1, Err: last}
		case <-time.After(delay):
		}
	}
}

func (c *Client) once(ctx context.Context, method, path string, payload []byte) (int, []byte, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint(path), body)
	if err != nil {
		return 0, nil, err
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json; odata=minimalmetadata")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, classify(err)
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

// classify turns TLS and pin failures into *UntrustedError; everything else
// is left to be retried.
func classify(err error) error {
	var pinErr *tool.PinError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verifyErr *tls.CertificateVerificationError
	var alert tls.AlertError
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
	case errors.As(err, &alert):
		return &UntrustedError{Reason: "the TLS handshake failed", Err: err}
	case errors.As(err, &recordErr):
		return &UntrustedError{Reason: "the server does not speak TLS", Err: err}
	}
	return err
}

func retryable(err error) bool {
	var u *UntrustedError
	var p *ProtocolError
	return !errors.As(err, &u) && !errors.As(err, &p)
}
