package server

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/seskit/ses/tool"
)

var (
	credsOnce         sync.Once
	signCred, encCred *tool.Credential
)

func testCreds(t testing.TB) (sign, enc *tool.Credential) {
	credsOnce.Do(func() {
		signCred, encCred = newCred(t, "sign"), newCred(t, "enc")
	})
	return signCred, encCred
}

func newCred(t testing.TB, cn string) *tool.Credential {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	cert, _ := x509.ParseCertificate(der)
	return &tool.Credential{Certificate: cert, Key: key}
}

// fixture is a handler with a fixed clock and a token maker.
type fixture struct {
	t    *testing.T
	h    *Handler
	now  time.Time
	sign *tool.Credential
	enc  *tool.Credential
}

func newFixture(t *testing.T) *fixture {
	sign, enc := testCreds(t)
	f := &fixture{t: t, now: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), sign: sign, enc: enc}
	f.h = NewHandler(Config{
		Verifier: &tool.Verifier{Sign: sign.Certificate, Decrypt: enc},
		MaxLease: time.Hour,
		Log:      zerolog.Nop(),
		Now:      func() time.Time { return f.now },
	})
	return f
}

func (f *fixture) token(mod func(*tool.Claims)) string {
	c := tool.Claims{
		ID: tool.NewTokenID(), Issuer: tool.DefaultIssuer, Audience: tool.DefaultAudience,
		NotBefore: f.now.Add(-time.Minute), Expiry: f.now.Add(2 * time.Hour), IssuedAt: f.now,
		Applications: []string{"contosoapp"}, Addresses: []string{"10.0.0.1"}, VMID: "vm-7",
	}
	if mod != nil {
		mod(&c)
	}
	tok, err := tool.Seal(c, f.sign, f.enc.Certificate)
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

// do sends a request from 10.0.0.1 and decodes a JSON answer.
func (f *fixture) do(method, target, body string, mod ...func(*http.Request)) (int, map[string]any) {
	f.t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.RemoteAddr = "10.0.0.1:50000"
	r.Header.Set("Content-Type", "application/json")
	for _, m := range mod {
		m(r)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	var m map[string]any
	json.Unmarshal(w.Body.Bytes(), &m)
	return w.Code, m
}

func body(token, app string) string {
	b, _ := json.Marshal(map[string]string{"token": token, "applicationId": app})
	return string(b)
}

func errorValue(m map[string]any) string {
	msg, _ := m["message"].(map[string]any)
	s, _ := msg["value"].(string)
	return s
}

func TestEveryAPIVersion(t *testing.T) {
	f := newFixture(t)
	tok := f.token(nil)
	for _, v := range tool.APIVersions {
		if v.Lease {
			continue
		}
		t.Run(v.Name, func(t *testing.T) {
			code, m := f.do("POST", "/softwareEntitlements?api-version="+v.Name, body(tok, "contosoapp"))
			if code != 200 || !strings.HasPrefix(m["id"].(string), "entitlement-") {
				t.Fatalf("%d %v", code, m)
			}
			if v.VMID {
				if m["vmid"] != "vm-7" || m["expiry"] != nil {
					t.Errorf("got %v, want id and vmid", m)
				}
			} else if m["expiry"] != "2026-11-22T12:00:00Z" || m["vmid"] != nil {
				t.Errorf("got %v, want id and expiry", m)
			}
		})
	}
	// 5.0 without a vmid in the token still answers one: a GUID.
	code, m := f.do("POST", "/softwareEntitlements?api-version=2017-05-01.5.0", body(f.token(func(c *tool.Claims) { c.VMID = "" }), "contosoapp"))
	if vmid, _ := m["vmid"].(string); code != 200 || len(vmid) != 36 {
		t.Errorf("5.0 without vmid: %d %v, want a GUID", code, m)
	}
}

func TestErrors(t *testing.T) {
	f := newFixture(t)
	tok := f.token(nil)
	const v = "?api-version=2017-09-01.6.0"
	tests := []struct {
		name, method, target, body string
		mod                        func(*http.Request)
		status                     int
		code, msg                  string
	}{
		{name: "missing api-version", target: "/softwareEntitlements", body: body(tok, "contosoapp"), status: 400, code: "EntitlementDenied",
			msg: "Missing api-version query parameter; denying entitlement request."},
		{name: "unknown api-version", target: "/softwareEntitlements?api-version=2016-01-01.1.0", body: body(tok, "contosoapp"), status: 400, code: "EntitlementDenied",
			msg: "Specified api-version of 2016-01-01.1.0 is not supported; denying entitlement request."},
		{name: "13.0 does not exist", target: "/softwareEntitlements?api-version=2021-01-01.13.0", body: body(tok, "contosoapp"), status: 400, msg: "Specified api-version of 2021-01-01.13.0 is not supported; denying entitlement request."},
		{name: "missing body", target: "/softwareEntitlements" + v, status: 400, code: "EntitlementDenied", msg: "Missing request body; denying entitlement request."},
		{name: "malformed body", target: "/softwareEntitlements" + v, body: "{nope", status: 400, code: "EntitlementDenied", msg: "Malformed request body"},
		{name: "missing token", target: "/softwareEntitlements" + v, body: `{"applicationId":"contosoapp"}`, status: 400, msg: "Missing token from request body; denying entitlement request."},
		{name: "missing applicationId", target: "/softwareEntitlements" + v, body: `{"token":"x"}`, status: 400, msg: "Missing applicationId from request body; denying entitlement request."},
		{name: "other application", target: "/softwareEntitlements" + v, body: body(tok, "otherapp"), status: 403, code: "EntitlementDenied", msg: "Entitlement for otherapp was denied."},
		{name: "other address", target: "/softwareEntitlements" + v, body: body(tok, "contosoapp"), mod: func(r *http.Request) { r.RemoteAddr = "10.0.0.2:1" }, status: 403, msg: "Entitlement for contosoapp was denied."},
		{name: "expired token", target: "/softwareEntitlements" + v, body: body(f.token(func(c *tool.Claims) { c.Expiry = f.now.Add(-time.Hour) }), "contosoapp"), status: 403},
		{name: "garbage token", target: "/softwareEntitlements" + v, body: body("garbage", "contosoapp"), status: 403},
		{name: "body too large by length", target: "/softwareEntitlements" + v, body: `{"token":"` + strings.Repeat("a", MaxBody) + `"}`, status: 413},
		{name: "body too large, chunked", target: "/softwareEntitlements" + v, body: `{"token":"` + strings.Repeat("a", MaxBody) + `"}`, mod: func(r *http.Request) { r.ContentLength = -1 }, status: 413},
		{name: "unknown path", target: "/elsewhere" + v, status: 404, code: "NotFound"},
		{name: "GET on the endpoint", method: "GET", target: "/softwareEntitlements" + v, status: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = "POST"
			}
			mods := []func(*http.Request){}
			if tt.mod != nil {
				mods = append(mods, tt.mod)
			}
			code, m := f.do(method, tt.target, tt.body, mods...)
			if code != tt.status {
				t.Fatalf("status %d, want %d (%v)", code, tt.status, m)
			}
			if tt.code != "" && m["code"] != tt.code {
				t.Errorf("code %v, want %s", m["code"], tt.code)
			}
			if tt.msg != "" && !strings.HasPrefix(errorValue(m), tt.msg) {
				t.Errorf("message %q, want %q", errorValue(m), tt.msg)
			}
			if msg, _ := m["message"].(map[string]any); m["code"] != nil && msg["lang"] != "en-us" {
				t.Errorf("message lang %v, want en-us", msg["lang"])
			}
		})
	}
}

func TestTolerance(t *testing.T) {
	f := newFixture(t)
	tok := f.token(nil)
	tests := []struct {
		name, target, body string
		mod                func(*http.Request)
	}{
		{name: "path case and trailing slash", target: "/SOFTWAREENTITLEMENTS/?api-version=2017-09-01.6.0", body: body(tok, "contosoapp")},
		{name: "content-type parameters", target: "/softwareEntitlements?api-version=2017-09-01.6.0", body: body(tok, "contosoapp"),
			mod: func(r *http.Request) { r.Header.Set("Content-Type", "application/json; odata=minimalmetadata") }},
		{name: "property name case", target: "/softwareEntitlements?api-version=2017-09-01.6.0", body: `{"Token":"` + tok + `","ApplicationID":"contosoapp"}`},
		{name: "single quotes", target: "/softwareEntitlements?api-version=2017-09-01.6.0", body: `{'token': '` + tok + `', 'applicationId': 'contosoapp'}`},
		{name: "application case", target: "/softwareEntitlements?api-version=2017-09-01.6.0", body: body(tok, "ContosoApp")},
		{name: "IPv4-mapped peer", target: "/softwareEntitlements?api-version=2017-09-01.6.0", body: body(tok, "contosoapp"),
			mod: func(r *http.Request) { r.RemoteAddr = "[::ffff:10.0.0.1]:50000" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mods []func(*http.Request)
			if tt.mod != nil {
				mods = append(mods, tt.mod)
			}
			if code, m := f.do("POST", tt.target, tt.body, mods...); code != 200 {
				t.Fatalf("status %d (%v), want 200", code, m)
			}
		})
	}
}

func TestTokenCache(t *testing.T) {
	f := newFixture(t)
	tok := f.token(nil)
	for range 3 {
		if code, _ := f.do("POST", "/softwareEntitlements?api-version=2017-09-01.6.0", body(tok, "contosoapp")); code != 200 {
			t.Fatalf("status %d", code)
		}
	}
	if n := len(f.h.cache.tokens); n != 1 {
		t.Fatalf("cache holds %d tokens, want 1", n)
	}
	// The per-request checks still run on a cached token.
	if code, _ := f.do("POST", "/softwareEntitlements?api-version=2017-09-01.6.0", body(tok, "otherapp")); code != 403 {
		t.Errorf("cached token for another app: %d, want 403", code)
	}
	f.now = f.now.Add(3 * time.Hour)
	if code, _ := f.do("POST", "/softwareEntitlements?api-version=2017-09-01.6.0", body(tok, "contosoapp")); code != 403 {
		t.Errorf("cached token after its expiry: %d, want 403", code)
	}
	if n := len(f.h.cache.tokens); n != 0 {
		t.Errorf("an expired token stayed in the cache")
	}
}

func TestPanicBecomes500(t *testing.T) {
	f := newFixture(t)
	leases := f.h.cfg.Leases
	f.h.cfg.Leases = nil // storing a lease in no table panics
	code, m := f.do("POST", "/softwareEntitlements?api-version=9999-09-09.99.99", `{"token":"`+f.token(nil)+`","applicationId":"contosoapp","duration":"PT5M"}`)
	if code != 500 || m["code"] != "InternalError" {
		t.Fatalf("got %d %v, want a 500 JSON body", code, m)
	}
	f.h.cfg.Leases = leases
	if code, _ := f.do("POST", "/softwareEntitlements?api-version=2017-09-01.6.0", body(f.token(nil), "contosoapp")); code != 200 {
		t.Errorf("after a panic: %d, want the handler still serving", code)
	}
}

func TestStatusAndHealth(t *testing.T) {
	f := newFixture(t)
	tok := f.token(nil)
	f.do("POST", "/softwareEntitlements?api-version=2017-09-01.6.0", body(tok, "otherapp"))
	r := httptest.NewRequest("GET", "/", nil)
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	page := w.Body.String()
	if w.Code != 200 || !strings.Contains(page, "application-not-entitled") || !strings.Contains(page, "otherapp") {
		t.Errorf("status page %d does not show the last decision:\n%s", w.Code, page)
	}
	if strings.Contains(page, tok[:40]) {
		t.Error("the status page shows token contents")
	}
	w = httptest.NewRecorder()
	f.h.ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
	if w.Code != 200 {
		t.Errorf("/healthz: %d", w.Code)
	}
}

// fakeAuth accepts requests carrying "Authorization: yes".
type fakeAuth struct{ http.Handler }

func (fakeAuth) Authorize(r *http.Request, audience, action string) error {
	if r.Header.Get("Authorization") != "yes" || audience != "https://here/admin" || action != "Manage" {
		return errors.New("no")
	}
	return nil
}

func TestAdminAPI(t *testing.T) {
	f := newFixture(t)
	f.h.cfg.Auth, f.h.cfg.AdminAudience = fakeAuth{http.NotFoundHandler()}, "https://here/admin"
	id := f.acquire(f.token(nil), "PT5M")
	auth := func(r *http.Request) { r.Header.Set("Authorization", "yes") }

	r := httptest.NewRequest("GET", "/admin/leases", nil)
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	if w.Code != 401 || w.Header().Get("WWW-Authenticate") != "WRAP" {
		t.Fatalf("without authorization: %d %q, want 401 with WWW-Authenticate: WRAP", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	var leases []Lease
	r = httptest.NewRequest("GET", "/admin/leases", nil)
	auth(r)
	w = httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	if json.Unmarshal(w.Body.Bytes(), &leases); w.Code != 200 || len(leases) != 1 || leases[0].ID != id {
		t.Fatalf("leases: %d %s", w.Code, w.Body)
	}
	if code, _ := f.do("DELETE", "/admin/leases/"+id, "", auth); code != 204 {
		t.Fatalf("revoke: %d", code)
	}
	if code, m := f.do("POST", "/softwareEntitlements/"+id+leaseV, `{"duration":"PT5M"}`); code != 409 || m["code"] != "AlreadyReleased" {
		t.Errorf("renew after revoke: %d %v", code, m)
	}
	if code, _ := f.do("GET", "/admin/decisions", "", auth); code != 200 {
		t.Errorf("decisions: %d", code)
	}
}
