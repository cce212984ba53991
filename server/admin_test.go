package server

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// fakeAuth accepts requests whose Authorization header is "WRAP
// access_token=good" and remembers what it was asked.
type fakeAuth struct {
	mu   *sync.Mutex
	asks *[]string
}

func newFakeAuth() fakeAuth { return fakeAuth{mu: &sync.Mutex{}, asks: new([]string)} }

func (a fakeAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
	w.Write([]byte("wrap_access_token=good&wrap_access_token_expires_in=600"))
}

func (a fakeAuth) Authorize(r *http.Request, audience, action string) error {
	if a.mu != nil {
		a.mu.Lock()
		*a.asks = append(*a.asks, audience+" "+action)
		a.mu.Unlock()
	}
	if r.Header.Get("Authorization") != `WRAP access_token="good"` {
		return errors.New("no good token")
	}
	return nil
}

func withToken(token string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", `WRAP access_token="`+token+`"`) }
}

func TestAdminNeedsAnAuthorizer(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/admin/leases", "/admin/decisions", "/WRAPv0.9/"} {
		if r := f.do("GET", path, ""); r.status != 404 {
			t.Errorf("GET %s without --acs: %d, want 404", path, r.status)
		}
	}
}

func TestAdmin(t *testing.T) {
	auth := newFakeAuth()
	f := newFixture(t, func(c *HandlerConfig) { c.Auth = auth; c.AdminAudience = "https://127.0.0.1:4443/admin" })
	good := withToken("good")

	// The WRAP issuer is mounted at /WRAPv0.9/.
	if r := f.do("POST", "/WRAPv0.9/", "wrap_name=a&wrap_password=b&wrap_scope=c"); r.status != 200 || !strings.Contains(r.raw, "wrap_access_token=good") {
		t.Errorf("POST /WRAPv0.9/: %d %q", r.status, r.raw)
	}

	for _, tt := range []struct {
		method, path string
		mod          []func(*http.Request)
	}{
		{"GET", "/admin/leases", nil},
		{"GET", "/admin/decisions", []func(*http.Request){withToken("bad")}},
		{"DELETE", "/admin/leases/0123456789abcdef0123456789abcdef", nil},
	} {
		r := f.do(tt.method, tt.path, "", tt.mod...)
		if r.status != 401 || r.header.Get("WWW-Authenticate") != "WRAP" || r.code() != "Unauthorized" {
			t.Errorf("%s %s without a good token: %d %q %s, want 401 with WWW-Authenticate: WRAP", tt.method, tt.path, r.status, r.header.Get("WWW-Authenticate"), r.raw)
		}
	}
	auth.mu.Lock()
	if len(*auth.asks) == 0 || (*auth.asks)[0] != "https://127.0.0.1:4443/admin Manage" {
		t.Errorf("authorizer asked %q, want the server's URL/admin and Manage", *auth.asks)
	}
	auth.mu.Unlock()

	tok := f.token(nil)
	a := f.acquire(tok, "PT10M")
	b := f.acquire(tok, "PT20M")
	f.do("POST", "/softwareEntitlements"+v6, body(tok, "otherapp"))

	r := f.do("GET", "/admin/leases", "", good)
	if r.status != 200 || !strings.Contains(r.raw, `"id":"`+a+`"`) || !strings.Contains(r.raw, `"id":"`+b+`"`) {
		t.Fatalf("GET /admin/leases: %d %s, want both leases", r.status, r.raw)
	}
	if strings.Contains(r.raw, tok[:40]) {
		t.Error("/admin/leases shows token contents")
	}
	if r := f.do("GET", "/admin/decisions", "", good); r.status != 200 || !strings.HasPrefix(r.raw, `[{"time":`) || !strings.Contains(r.raw, "application-not-entitled") {
		t.Errorf("GET /admin/decisions: %d %s", r.status, r.raw)
	}

	// Revoking: 204, and the lease's holder hears 409 AlreadyReleased.
	if r := f.do("DELETE", "/admin/leases/"+a, "", good); r.status != 204 {
		t.Fatalf("DELETE /admin/leases/%s: %d %s, want 204", a, r.status, r.raw)
	}
	if r := f.do("POST", "/softwareEntitlements/"+a+leaseV, `{"duration":"PT5M"}`); r.status != 409 || r.code() != "AlreadyReleased" {
		t.Errorf("renewing a revoked lease: %d %s, want 409 AlreadyReleased", r.status, r.raw)
	}
	if r := f.do("GET", "/admin/leases", "", good); strings.Contains(r.raw, a) || !strings.Contains(r.raw, b) {
		t.Errorf("after revoking %s: %s", a, r.raw)
	}
	if r := f.do("DELETE", "/admin/leases/ffffffffffffffffffffffffffffffff", "", good); r.status != 404 || r.code() != "NotFound" {
		t.Errorf("revoking an unknown lease: %d %s, want 404 NotFound", r.status, r.raw)
	}
	if r := f.do("GET", "/admin/elsewhere", "", good); r.status != 404 {
		t.Errorf("GET /admin/elsewhere: %d, want 404", r.status)
	}
}
