package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seskit/ses/internal/testpki"
	"github.com/seskit/ses/tool"
)

const testHost = "acct.westus.batch.azure.com"

// pki is a CA's root and intermediate and a leaf for testHost under them.
type pki struct{ root, inter, leaf *testpki.Cert }

// newPKI is the shared test CA's.
func newPKI(t *testing.T) pki { return pkiOf(t, testpki.SharedCA(t)) }

// freshPKI has a CA of its own, which no other trusts.
func freshPKI(t *testing.T) pki { return pkiOf(t, testpki.NewCA(t)) }

func pkiOf(t *testing.T, ca *testpki.CA) pki {
	return pki{ca.Root, ca.Intermediate, ca.Leaf(t, "test leaf", testHost, time.Now().Add(24*time.Hour))}
}

// server is an in-process TLS server presenting chain, counting the
// connections it accepts and the requests that reach its handler.
type server struct {
	*httptest.Server
	hits  atomic.Int32
	conns atomic.Int32
}

func newServer(t *testing.T, h http.HandlerFunc, chain ...*testpki.Cert) *server {
	return newServerWith(t, h, nil, chain...)
}

// newServerWith is newServer with its TLS configuration changed by tweak.
func newServerWith(t *testing.T, h http.HandlerFunc, tweak func(*tls.Config), chain ...*testpki.Cert) *server {
	s := &server{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	}))
	s.Listener.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Listener = l
	var raw [][]byte
	for _, c := range chain {
		raw = append(raw, c.Certificate.Raw)
	}
	s.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: raw, PrivateKey: chain[0].Key}}}
	if tweak != nil {
		tweak(s.TLS)
	}
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// options point a client for testHost at s, trusting root and pinning pin.
// The bound on a call is generous: two handshakes under the race detector
// on a busy machine have taken more than five seconds.
func (s *server) options(root *testpki.Cert, pins ...*testpki.Cert) Options {
	o := Options{
		URL:     "https://" + testHost,
		Pins:    []tool.Pin{},
		Backoff: time.Millisecond,
		Timeout: time.Minute,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, s.Listener.Addr().String())
		},
	}
	if root != nil {
		o.ExtraRoots = []*x509.Certificate{root.Certificate}
	}
	for _, p := range pins {
		o.Pins = append(o.Pins, tool.PinOf(p.Certificate, p.Certificate.Subject.CommonName))
	}
	return o
}

func ok(w http.ResponseWriter, _ *http.Request) {
	w.Write([]byte(`{"id":"entitlement-1","expiry":"2026-11-29T00:00:00Z"}`))
}

// kind names the one error class err belongs to, so that no failure is
// confused with another.
func kind(err error) string {
	var (
		d *DeniedError
		u *UntrustedError
		n *UnreachableError
		p *ProtocolError
	)
	found := []string{}
	if errors.As(err, &d) {
		found = append(found, "denied")
	}
	if errors.As(err, &u) {
		found = append(found, "untrusted")
	}
	if errors.As(err, &n) {
		found = append(found, "unreachable")
	}
	if errors.As(err, &p) {
		found = append(found, "protocol")
	}
	switch {
	case err == nil:
		return "ok"
	case len(found) == 1:
		return found[0]
	case len(found) == 0:
		return "other: " + err.Error()
	}
	return "confused"
}

func TestCheck(t *testing.T) {
	p := newPKI(t)
	ca := testpki.SharedCA(t)
	expired := ca.Leaf(t, "expired leaf", testHost, time.Now().Add(-time.Hour))
	wrongName := ca.Leaf(t, "wrong name", "other.westus.batch.azure.com", time.Now().Add(time.Hour))
	selfSigned := testpki.SelfSignedLeaf(t, "self-signed", testHost, time.Now().Add(time.Hour))

	var flaky atomic.Int32
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		chain    []*testpki.Cert
		opts     func(s *server) Options
		want     string
		hits     int32 // requests the handler must have seen
		apiV     string
		noServer bool
	}{
		{name: "pin on the intermediate", handler: ok, chain: []*testpki.Cert{p.leaf, p.inter},
			opts: func(s *server) Options { return s.options(p.root, p.inter) }, want: "ok", hits: 1},
		{name: "pin on the leaf", handler: ok, chain: []*testpki.Cert{p.leaf, p.inter},
			opts: func(s *server) Options { return s.options(p.root, p.leaf) }, want: "ok", hits: 1},
		{name: "pin on the root", handler: ok, chain: []*testpki.Cert{p.leaf, p.inter},
			opts: func(s *server) Options { return s.options(p.root, p.root) }, want: "ok", hits: 1},
		{name: "no pin in the chain", handler: ok, chain: []*testpki.Cert{p.leaf, p.inter},
			opts: func(s *server) Options { return s.options(p.root, selfSigned) }, want: "untrusted", hits: 0},
		{name: "built-in pins only", handler: ok, chain: []*testpki.Cert{p.leaf, p.inter},
			opts: func(s *server) Options { o := s.options(p.root); o.Pins = nil; return o }, want: "untrusted", hits: 0},
		{name: "self-signed", handler: ok, chain: []*testpki.Cert{selfSigned},
			opts: func(s *server) Options { return s.options(nil, selfSigned) }, want: "untrusted", hits: 0},
		{name: "expired", handler: ok, chain: []*testpki.Cert{expired, p.inter},
			opts: func(s *server) Options { return s.options(p.root, p.inter) }, want: "untrusted", hits: 0},
		{name: "name mismatch", handler: ok, chain: []*testpki.Cert{wrongName, p.inter},
			opts: func(s *server) Options { return s.options(p.root, p.inter) }, want: "untrusted", hits: 0},
		{name: "host not in the list", handler: ok, chain: []*testpki.Cert{p.leaf, p.inter},
			opts: func(s *server) Options { o := s.options(p.root, p.inter); o.URL = "https://evil.example.com"; return o }, want: "untrusted", hits: 0},
		{name: "redirect", chain: []*testpki.Cert{p.leaf, p.inter},
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "https://elsewhere.batch.azure.com/", http.StatusFound)
			},
			opts: func(s *server) Options { return s.options(p.root, p.inter) }, want: "protocol", hits: 1},
		{name: "403", chain: []*testpki.Cert{p.leaf, p.inter},
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(403)
				w.Write([]byte(`{"code":"EntitlementDenied","message":{"lang":"en-us","value":"Entitlement for contosoapp was denied."}}`))
			},
			opts: func(s *server) Options { return s.options(p.root, p.inter) }, want: "denied", hits: 1},
		{name: "503 then 200", chain: []*testpki.Cert{p.leaf, p.inter},
			handler: func(w http.ResponseWriter, r *http.Request) {
				if flaky.Add(1) == 1 {
					w.WriteHeader(503)
					return
				}
				ok(w, r)
			},
			opts: func(s *server) Options { return s.options(p.root, p.inter) }, want: "ok", hits: 2},
		{name: "503 always", chain: []*testpki.Cert{p.leaf, p.inter},
			handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) },
			opts:    func(s *server) Options { o := s.options(p.root, p.inter); o.Retries = 2; return o }, want: "unreachable", hits: 3},
		// The handler answers only once the client has given up (or after
		// a minute); the client's bound leaves the request time to reach
		// it on a busy machine.
		{name: "slow server", chain: []*testpki.Cert{p.leaf, p.inter},
			handler: func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body) // then the server notices the client leaving
				select {
				case <-r.Context().Done():
				case <-time.After(time.Minute):
				}
				ok(w, r)
			},
			opts: func(s *server) Options {
				o := s.options(p.root, p.inter)
				o.Timeout, o.Retries = 2*time.Second, -1
				return o
			}, want: "unreachable", hits: 1},
		{name: "malformed 200", chain: []*testpki.Cert{p.leaf, p.inter},
			handler: func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`<html>`)) },
			opts:    func(s *server) Options { return s.options(p.root, p.inter) }, want: "protocol", hits: 1},
		{name: "200 without vmid on 5.0", chain: []*testpki.Cert{p.leaf, p.inter}, apiV: "2017-05-01.5.0",
			handler: ok, opts: func(s *server) Options { return s.options(p.root, p.inter) }, want: "protocol", hits: 1},
		{name: "400 is not a denial", chain: []*testpki.Cert{p.leaf, p.inter},
			handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(400) },
			opts:    func(s *server) Options { return s.options(p.root, p.inter) }, want: "protocol", hits: 1},
		{name: "nothing listening", chain: []*testpki.Cert{p.leaf, p.inter}, noServer: true, handler: ok,
			opts: func(s *server) Options { o := s.options(p.root, p.inter); o.Retries = 1; return o }, want: "unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, tt.handler, tt.chain...)
			o := tt.opts(s)
			if tt.apiV != "" {
				o.APIVersion = tt.apiV
			}
			if tt.noServer {
				s.Close()
			}
			var err error
			c, err := New(o)
			if err == nil {
				_, err = c.Check(context.Background(), "a-token", "contosoapp")
			}
			if got := kind(err); got != tt.want {
				t.Fatalf("got %s (%v), want %s", got, err, tt.want)
			}
			if !tt.noServer && s.hits.Load() != tt.hits {
				t.Errorf("the handler saw %d requests, want %d", s.hits.Load(), tt.hits)
			}
		})
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		in, want string
		bad      bool
	}{
		{in: "https://a.westus.batch.azure.com", want: "https://a.westus.batch.azure.com/softwareEntitlements?api-version=2017-09-01.6.0"},
		{in: "https://a.westus.batch.azure.com/", want: "https://a.westus.batch.azure.com/softwareEntitlements?api-version=2017-09-01.6.0"},
		{in: "https://a.westus.batch.azure.com/prefix//", want: "https://a.westus.batch.azure.com/prefix/softwareEntitlements?api-version=2017-09-01.6.0"},
		{in: "http://a.westus.batch.azure.com", bad: true},
		{in: "https://user:pw@a.westus.batch.azure.com", bad: true},
		{in: "https://a.westus.batch.azure.com/?x=1", bad: true},
		{in: "https://a.westus.batch.azure.com/#frag", bad: true},
		{in: "https://", bad: true},
		{in: "", bad: true},
	}
	for _, tt := range tests {
		c, err := New(Options{URL: tt.in})
		if tt.bad {
			var u *UntrustedError
			if !errors.As(err, &u) {
				t.Errorf("New(%q) = %v, want an UntrustedError", tt.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("New(%q): %v", tt.in, err)
			continue
		}
		if got := c.endpoint("/softwareEntitlements"); got != tt.want {
			t.Errorf("endpoint for %q = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestHostsAndPins(t *testing.T) {
	for host, want := range map[string]bool{
		"acct.westus.batch.azure.com":  true,
		"ACCT.WESTUS.BATCH.AZURE.COM.": true,
		"a.b.batch.usgovcloudapi.net":  true,
		"a.b.batch.chinacloudapi.cn":   true,
		"batch.azure.com":              false,
		"evilbatch.azure.com":          false,
		"a.batch.azure.com.evil.com":   false,
		"a.batch.microsoftazure.de":    false,
	} {
		if ok := tool.AllowedHost(host, nil); ok != want {
			t.Errorf("AllowedHost(%q) = %v, want %v", host, ok, want)
		}
	}
	pins := tool.BuiltinPins()
	if len(pins) < 40 {
		t.Errorf("%d built-in pins, want Microsoft's list", len(pins))
	}
	var g2, china bool
	for _, p := range pins {
		g2 = g2 || p.Name == "Microsoft TLS G2 RSA CA OCSP 02"
		china = china || p.Host == ".batch.chinacloudapi.cn"
	}
	if !g2 || !china {
		t.Error("the built-in pins lack the G2 hierarchy or the China-bound CAs")
	}
	// A pin bound to a host suffix and an expired pin count for nothing else.
	c := testpki.SharedCA(t).Root.Certificate
	bound := tool.PinOf(c, "bound")
	bound.Host = ".batch.chinacloudapi.cn"
	if bound.Matches(c, testHost, time.Now()) || !bound.Matches(c, "a.b.batch.chinacloudapi.cn", time.Now()) {
		t.Error("a host-bound pin matched outside its host, or not inside")
	}
	withCN, err := tool.ParsePin(tool.ThumbprintOf(c).String() + "=someone else")
	if err != nil || withCN.Matches(c, testHost, time.Now()) {
		t.Errorf("a pin with another common name matched (%v)", err)
	}
	if _, err := tool.ParsePin("abcd"); err == nil {
		t.Error("a 4-digit pin was accepted")
	}
}

func FuzzDecodeResponse(f *testing.F) {
	for _, s := range []string{`{"id":"e","expiry":"2026-11-29T00:00:00Z"}`, `{"id":"e","vmid":"v"}`, `{"entitlementId":"0123456789abcdef0123456789abcdef","initialExpiryTime":"2026-11-29T00:00:00Z"}`, `{"entitlementId":"../x","initialExpiryTime":"2026-11-29T00:00:00Z"}`, `{"expiryTime":"2026-11-29T00:00:00Z"}`, `{`, `[]`, `{"code":"EntitlementDenied","message":{"value":"no"}}`} {
		f.Add([]byte(s), 200)
	}
	v50, _ := tool.LookupAPIVersion("2017-05-01.5.0")
	v60, _ := tool.LookupAPIVersion("2017-09-01.6.0")
	f.Fuzz(func(t *testing.T, body []byte, status int) {
		for _, v := range []tool.APIVersion{v50, v60} {
			e, err := decodeEntitlement(body, v)
			if err == nil && (e.ID == "" || v.VMID && e.VMID == "") {
				t.Fatalf("%s: accepted %q without id or vmid", v.Name, body)
			}
		}
		if l, err := decodeAcquired(body); err == nil && (!tool.IsLeaseID(l.ID) || l.Expiry.IsZero()) {
			t.Fatalf("accepted the lease %q without a lease id or expiry", body)
		}
		if e, err := decodeRenewed(body); err == nil && e.IsZero() {
			t.Fatalf("accepted the renewal %q without expiry", body)
		}
		if status >= 100 && status < 600 && status != 200 {
			if refusal(status, body, true) == nil {
				t.Fatal("a refusal without an error")
			}
		}
	})
}

func TestHostNotAllowed(t *testing.T) {
	_, err := New(Options{URL: "https://licensing.example.com"})
	var u *UntrustedError
	if !errors.As(err, &u) || u.RefusedHost != "licensing.example.com" {
		t.Fatalf("New = %v, want an UntrustedError naming the host", err)
	}
	if strings.Contains(err.Error(), "--") {
		t.Errorf("the library's error names a flag: %v", err)
	}
	if _, err := New(Options{URL: "https://a.westus.batch.azure.com", AllowHosts: []string{".example.com"}}); err != nil {
		t.Errorf("a Batch host with AllowHosts: %v", err)
	}
}

func TestRequestWrapToken(t *testing.T) {
	p := newPKI(t)
	var form url.Values
	issuer := func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		form = r.PostForm
		if r.PostForm.Get(tool.WRAPPassword) != "key" && r.PostForm.Get(tool.WRAPAssertion) == "" {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte("unknown issuer or wrong password\n"))
			return
		}
		w.Header().Set("Content-Type", tool.WRAPContentType)
		w.Write([]byte("wrap_access_token=a%3Db%26HMACSHA256%3Dx&wrap_access_token_expires_in=3600"))
	}
	s := newServer(t, issuer, p.leaf, p.inter)
	o := s.options(p.root, p.inter)
	o.URL = "https://" + testHost + "/WRAPv0.9/"

	tok, err := RequestWrapToken(context.Background(), o, WrapRequest{Scope: "https://svc/", Name: "agent", Password: "key"})
	if err != nil || tok.AccessToken != "a=b&HMACSHA256=x" || tok.ExpiresIn != time.Hour {
		t.Fatalf("RequestWrapToken = %+v, %v", tok, err)
	}
	if form.Get(tool.WRAPScope) != "https://svc/" || form.Get(tool.WRAPName) != "agent" {
		t.Errorf("the issuer got %v", form)
	}
	if _, err := RequestWrapToken(context.Background(), o, WrapRequest{Scope: "https://svc/", Name: "agent", Password: "wrong"}); kind(err) != "denied" {
		t.Errorf("a wrong password: %v, want a denial", err)
	}
	if _, err := RequestWrapToken(context.Background(), o, WrapRequest{Scope: "https://svc/", Assertion: "x=y&HMACSHA256=z"}); err != nil ||
		form.Get(tool.WRAPAssertionFormat) != tool.WRAPFormatSWT {
		t.Errorf("the assertion profile: %v, form %v", err, form)
	}
	hits := s.hits.Load()
	for _, req := range []WrapRequest{{Name: "agent", Password: "key"}, {Scope: "s", Name: "agent"}, {Scope: "s"}, {Scope: "s", Name: "a", Password: "k", Assertion: "x"}} {
		if _, err := RequestWrapToken(context.Background(), o, req); err == nil {
			t.Errorf("%+v was sent", req)
		}
	}
	unpinned := s.options(p.root, testpki.SelfSignedLeaf(t, "other", testHost, time.Now().Add(time.Hour)))
	unpinned.URL = o.URL
	if _, err := RequestWrapToken(context.Background(), unpinned, WrapRequest{Scope: "s", Name: "agent", Password: "key"}); kind(err) != "untrusted" {
		t.Errorf("no pin in the chain: %v, want untrusted", err)
	}
	if s.hits.Load() != hits {
		t.Errorf("refused requests reached the issuer")
	}
}
