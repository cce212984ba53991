package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/seskit/ses/tool"
)

const v6 = "?api-version=2017-09-01.6.0"

var (
	entitlementID = regexp.MustCompile(`^entitlement-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	guid          = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

func TestEveryAPIVersion(t *testing.T) {
	f := newFixture(t)
	tok := f.token(nil)
	for _, v := range tool.APIVersions {
		if v.Lease {
			continue
		}
		t.Run(v.Name, func(t *testing.T) {
			r := f.do("POST", "/softwareEntitlements?api-version="+v.Name, body(tok, "contosoapp"))
			if r.status != 200 || !entitlementID.MatchString(r.str("id")) {
				t.Fatalf("%d %s, want 200 with an entitlement id", r.status, r.raw)
			}
			if v.VMID {
				if len(r.json) != 2 || r.str("vmid") != "vm-7" {
					t.Errorf("got %s, want id and the token's vmid", r.raw)
				}
			} else if len(r.json) != 2 || r.str("expiry") != "2026-11-22T12:00:00Z" {
				t.Errorf("got %s, want id and the token's expiry", r.raw)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
		})
	}
	// 5.0 and 5.1 without a vmid in the token still answer one: a GUID.
	noVMID := f.token(func(c *tool.Claims) { c.VMID = "" })
	for _, v := range []string{"2017-05-01.5.0", "2017-06-01.5.1"} {
		r := f.do("POST", "/softwareEntitlements?api-version="+v, body(noVMID, "contosoapp"))
		if r.status != 200 || !guid.MatchString(r.str("vmid")) {
			t.Errorf("%s without a vmid claim: %d %s, want a GUID", v, r.status, r.raw)
		}
	}
}

func TestErrors(t *testing.T) {
	f := newFixture(t)
	tok := f.token(nil)
	signedByOther, err := tool.Seal(f.claims(), f.other, f.enc.Certificate)
	if err != nil {
		t.Fatal(err)
	}
	big := `{"token":"` + strings.Repeat("a", MaxBody) + `","applicationId":"contosoapp"}`
	chunked := func(r *http.Request) { r.ContentLength = -1; r.Body = io.NopCloser(strings.NewReader(big)) }
	tests := []struct {
		name, method, path, body string
		mod                      func(*http.Request)
		status                   int
		code, msg                string
	}{
		{name: "missing api-version", path: "/softwareEntitlements", body: body(tok, "contosoapp"), status: 400, code: "EntitlementDenied",
			msg: "Missing api-version query parameter; denying entitlement request."},
		{name: "empty api-version", path: "/softwareEntitlements?api-version=", body: body(tok, "contosoapp"), status: 400, code: "EntitlementDenied",
			msg: "Missing api-version query parameter; denying entitlement request."},
		{name: "unknown api-version", path: "/softwareEntitlements?api-version=2016-01-01.1.0", body: body(tok, "contosoapp"), status: 400, code: "EntitlementDenied",
			msg: "Specified api-version of 2016-01-01.1.0 is not supported; denying entitlement request."},
		{name: "13.0 does not exist", path: "/softwareEntitlements?api-version=2021-01-01.13.0", body: body(tok, "contosoapp"), status: 400, code: "EntitlementDenied",
			msg: "Specified api-version of 2021-01-01.13.0 is not supported; denying entitlement request."},
		{name: "missing body", path: "/softwareEntitlements" + v6, status: 400, code: "EntitlementDenied", msg: "Missing request body; denying entitlement request."},
		{name: "white space body", path: "/softwareEntitlements" + v6, body: " \n", status: 400, code: "EntitlementDenied", msg: "Missing request body; denying entitlement request."},
		{name: "malformed body", path: "/softwareEntitlements" + v6, body: "{nope", status: 400, code: "EntitlementDenied", msg: "Malformed request body"},
		{name: "token not a string", path: "/softwareEntitlements" + v6, body: `{"token":5,"applicationId":"contosoapp"}`, status: 400, code: "EntitlementDenied", msg: "Malformed request body"},
		{name: "missing token", path: "/softwareEntitlements" + v6, body: `{"applicationId":"contosoapp"}`, status: 400, code: "EntitlementDenied",
			msg: "Missing token from request body; denying entitlement request."},
		{name: "missing applicationId", path: "/softwareEntitlements" + v6, body: `{"token":"x"}`, status: 400, code: "EntitlementDenied",
			msg: "Missing applicationId from request body; denying entitlement request."},
		{name: "other application", path: "/softwareEntitlements" + v6, body: body(tok, "otherapp"), status: 403, code: "EntitlementDenied", msg: "Entitlement for otherapp was denied."},
		{name: "other address", path: "/softwareEntitlements" + v6, body: body(f.token(func(c *tool.Claims) { c.Addresses = []string{"10.0.0.2"} }), "contosoapp"),
			status: 403, code: "EntitlementDenied", msg: "Entitlement for contosoapp was denied."},
		{name: "expired token", path: "/softwareEntitlements" + v6, body: body(f.token(func(c *tool.Claims) { c.Expiry = f.start.Add(-time.Hour) }), "contosoapp"),
			status: 403, code: "EntitlementDenied", msg: "Entitlement for contosoapp was denied."},
		{name: "token not yet valid", path: "/softwareEntitlements" + v6, body: body(f.token(func(c *tool.Claims) { c.NotBefore = f.start.Add(time.Hour) }), "contosoapp"),
			status: 403, code: "EntitlementDenied"},
		{name: "other issuer", path: "/softwareEntitlements" + v6, body: body(f.token(func(c *tool.Claims) { c.Issuer = "https://elsewhere.test" }), "contosoapp"),
			status: 403, code: "EntitlementDenied"},
		{name: "other audience", path: "/softwareEntitlements" + v6, body: body(f.token(func(c *tool.Claims) { c.Audience = "https://elsewhere.test" }), "contosoapp"),
			status: 403, code: "EntitlementDenied"},
		{name: "signed with another key", path: "/softwareEntitlements" + v6, body: body(signedByOther, "contosoapp"), status: 403, code: "EntitlementDenied"},
		{name: "garbage token", path: "/softwareEntitlements" + v6, body: body("garbage", "contosoapp"), status: 403, code: "EntitlementDenied",
			msg: "Entitlement for contosoapp was denied."},
		{name: "body too large by Content-Length", path: "/softwareEntitlements" + v6, body: big, status: 413, code: "RequestBodyTooLarge"},
		{name: "body too large, chunked", path: "/softwareEntitlements" + v6, mod: chunked, status: 413, code: "RequestBodyTooLarge"},
		{name: "unknown path", path: "/elsewhere" + v6, status: 404, code: "NotFound"},
		{name: "GET on the endpoint", method: "GET", path: "/softwareEntitlements" + v6, status: 405},
		{name: "PUT on a lease", method: "PUT", path: "/softwareEntitlements/0123456789abcdef0123456789abcdef" + leaseV, status: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = "POST"
			}
			var mods []func(*http.Request)
			if tt.mod != nil {
				mods = append(mods, tt.mod)
			}
			r := f.do(method, tt.path, tt.body, mods...)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d (%s)", r.status, tt.status, r.raw)
			}
			if tt.code != "" && r.code() != tt.code {
				t.Errorf("code %q, want %q", r.code(), tt.code)
			}
			if tt.msg != "" && !strings.HasPrefix(r.message(), tt.msg) {
				t.Errorf("message %q, want %q", r.message(), tt.msg)
			}
			if msg, _ := r.json["message"].(map[string]any); r.json["code"] != nil && msg["lang"] != "en-us" {
				t.Errorf("message lang %v, want en-us", msg["lang"])
			}
		})
	}
}

// TestDeniedSaysNothingMore checks that a 403 gives no reason away: every
// refused token gets the same body.
func TestDeniedSaysNothingMore(t *testing.T) {
	f := newFixture(t)
	want := `{"code":"EntitlementDenied","message":{"lang":"en-us","value":"Entitlement for contosoapp was denied."}}` + "\n"
	for _, tok := range []string{"garbage", f.token(func(c *tool.Claims) { c.Expiry = f.start.Add(-time.Hour) })} {
		if r := f.do("POST", "/softwareEntitlements"+v6, body(tok, "contosoapp")); r.raw != want {
			t.Errorf("got %q, want %q", r.raw, want)
		}
	}
}

func TestTolerance(t *testing.T) {
	f := newFixture(t)
	tok := f.token(nil)
	tests := []struct {
		name, path, body string
		mod              func(*http.Request)
	}{
		{name: "path case and trailing slash", path: "/SOFTWAREENTITLEMENTS/" + v6, body: body(tok, "contosoapp")},
		{name: "api-version name case", path: "/softwareEntitlements?API-Version=2017-09-01.6.0", body: body(tok, "contosoapp")},
		{name: "content-type parameters", path: "/softwareEntitlements" + v6, body: body(tok, "contosoapp"),
			mod: func(r *http.Request) { r.Header.Set("Content-Type", "application/json; odata=minimalmetadata") }},
		{name: "no content-type", path: "/softwareEntitlements" + v6, body: body(tok, "contosoapp"),
			mod: func(r *http.Request) { r.Header.Del("Content-Type") }},
		{name: "property name case", path: "/softwareEntitlements" + v6, body: `{"Token":"` + tok + `","ApplicationID":"contosoapp"}`},
		{name: "single quotes", path: "/softwareEntitlements" + v6, body: `{'token': '` + tok + `', 'applicationId': 'contosoapp'}`},
		{name: "unknown properties", path: "/softwareEntitlements" + v6, body: `{"token":"` + tok + `","applicationId":"contosoapp","extra":[1,2]}`},
		{name: "application case", path: "/softwareEntitlements" + v6, body: body(tok, "ContosoApp")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mods []func(*http.Request)
			if tt.mod != nil {
				mods = append(mods, tt.mod)
			}
			if r := f.do("POST", tt.path, tt.body, mods...); r.status != 200 {
				t.Fatalf("status %d (%s), want 200", r.status, r.raw)
			}
		})
	}
}

// TestPeerAddress checks that the caller's address is the TCP peer, an
// IPv4-mapped IPv6 peer compared as IPv4. A real connection cannot come
// from a mapped address without a dual-stack listener on every interface,
// so this one goes to the handler directly.
func TestPeerAddress(t *testing.T) {
	f := newFixture(t)
	tok := f.token(func(c *tool.Claims) { c.Addresses = []string{"10.0.0.1", "fe80::1"} })
	for remote, want := range map[string]int{
		"10.0.0.1:50000":          200,
		"[::ffff:10.0.0.1]:50000": 200,
		"[fe80::1%eth0]:50000":    200,
		"10.0.0.2:50000":          403,
		"[::ffff:10.0.0.2]:50000": 403,
	} {
		r := httptest.NewRequest("POST", "/softwareEntitlements"+v6, strings.NewReader(body(tok, "contosoapp")))
		r.RemoteAddr = remote
		w := httptest.NewRecorder()
		f.served.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("from %s: %d, want %d", remote, w.Code, want)
		}
	}
	// A forwarding header does not change who the caller is.
	r := f.do("POST", "/softwareEntitlements"+v6, body(tok, "contosoapp"), func(r *http.Request) { r.Header.Set("X-Forwarded-For", "10.0.0.1") })
	if r.status != 403 {
		t.Errorf("with X-Forwarded-For of an entitled address: %d, want 403", r.status)
	}
}

func TestUnsignedAndUnencrypted(t *testing.T) {
	f := newFixture(t, func(c *HandlerConfig) { c.Verifier = &tool.Verifier{} })
	plain, err := tool.Seal(f.claims(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := f.do("POST", "/softwareEntitlements"+v6, body(plain, "contosoapp")); r.status != 200 {
		t.Errorf("unsigned, unencrypted token on --sign none --encrypt none: %d %s", r.status, r.raw)
	}
	if r := f.do("POST", "/softwareEntitlements"+v6, body(f.token(nil), "contosoapp")); r.status != 403 {
		t.Errorf("signed, encrypted token on --sign none --encrypt none: %d, want 403", r.status)
	}
}

func TestTokenCache(t *testing.T) {
	f := newFixture(t)
	tok := f.token(nil)
	for range 3 {
		if r := f.do("POST", "/softwareEntitlements"+v6, body(tok, "contosoapp")); r.status != 200 {
			t.Fatalf("status %d", r.status)
		}
	}
	if n := f.h.cache.len(); n != 1 {
		t.Fatalf("cache holds %d tokens, want 1", n)
	}
	// The per-request checks still run on a cached token.
	if r := f.do("POST", "/softwareEntitlements"+v6, body(tok, "otherapp")); r.status != 403 {
		t.Errorf("cached token for another app: %d, want 403", r.status)
	}
	f.clock.Add(3 * time.Hour)
	if r := f.do("POST", "/softwareEntitlements"+v6, body(tok, "contosoapp")); r.status != 403 {
		t.Errorf("cached token after its expiry: %d, want 403", r.status)
	}
	if n := f.h.cache.len(); n != 0 {
		t.Errorf("an expired token stayed in the cache")
	}
}

func TestTokenCacheBounded(t *testing.T) {
	now := time.Now()
	c := newTokenCache(3)
	tok := func(i byte, exp time.Duration) *tool.Token {
		t := &tool.Token{}
		t.Digest[0] = i
		t.Claims.Expiry = now.Add(exp)
		return t
	}
	for i := range byte(10) {
		c.put(tok(i, time.Hour), now)
		if c.len() > 3 {
			t.Fatalf("after %d tokens the cache holds %d, want at most 3", i+1, c.len())
		}
	}
	for i := range byte(10) {
		got := c.get(tok(i, 0).Digest, now) != nil
		if want := i >= 7; got != want {
			t.Errorf("token %d cached: %v, want %v (the newest three)", i, got, want)
		}
	}
	c.put(tok(20, -2*tool.Leeway), now)
	if c.get(tok(20, 0).Digest, now) != nil {
		t.Error("a token past its expiry was cached")
	}
	c.put(tok(21, time.Minute), now)
	if c.get(tok(21, 0).Digest, now.Add(time.Minute+tool.Leeway)) != nil {
		t.Error("a cached token was returned past its expiry")
	}
}

// panicky is an authorizer whose WRAP endpoint panics, as code outside the
// handler might.
type panicky struct{ fakeAuth }

func (panicky) ServeHTTP(http.ResponseWriter, *http.Request) { panic("boom") }

func TestPanicBecomes500(t *testing.T) {
	var logs bytes.Buffer
	f := newFixture(t, func(c *HandlerConfig) { c.Auth = panicky{}; c.Log = zerolog.New(&logs) })
	r := f.do("POST", "/WRAPv0.9/", "wrap_name=x")
	if r.status != 500 || r.code() != "InternalError" {
		t.Fatalf("got %d %s, want a 500 JSON body", r.status, r.raw)
	}
	if !strings.Contains(logs.String(), `"panic":"boom"`) || !strings.Contains(logs.String(), `"status":500`) {
		t.Errorf("log does not tell of the panic:\n%s", logs.String())
	}
	if r := f.do("POST", "/softwareEntitlements"+v6, body(f.token(nil), "contosoapp")); r.status != 200 {
		t.Errorf("after a panic: %d, want the server still serving", r.status)
	}
}

func TestStoreFailureIs500(t *testing.T) {
	leases, err := OpenLeases(t.TempDir() + "/leases.db")
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(c *HandlerConfig) { c.Leases = leases })
	leases.Close() // every write fails from now on
	r := f.do("POST", "/softwareEntitlements"+leaseV, leaseBody(f.token(nil), "contosoapp", "PT5M"))
	if r.status != 500 || r.code() != "InternalError" {
		t.Errorf("acquire with a failing lease file: %d %s, want 500 InternalError", r.status, r.raw)
	}
}

func TestLogLine(t *testing.T) {
	var logs bytes.Buffer
	f := newFixture(t, func(c *HandlerConfig) { c.Log = zerolog.New(&logs) })
	f.do("POST", "/softwareEntitlements"+v6, body(f.token(nil), "otherapp"))
	var line map[string]any
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("want one JSON line, got %q: %v", logs.String(), err)
	}
	want := map[string]any{"level": "info", "message": "request", "method": "POST", "path": "/softwareEntitlements",
		"api_version": "2017-09-01.6.0", "app": "otherapp", "remote": "127.0.0.1", "status": 403.0, "decision": "denied"}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("%s = %v, want %v", k, line[k], v)
		}
	}
	if reasons, _ := line["reasons"].([]any); len(reasons) != 1 || reasons[0] != "application-not-entitled" {
		t.Errorf("reasons = %v, want [application-not-entitled]", line["reasons"])
	}
	if _, ok := line["latency"].(float64); !ok {
		t.Errorf("no latency in %v", line)
	}
	if d, _ := line["detail"].(string); !strings.Contains(d, "otherapp") {
		t.Errorf("detail = %q, want the verifier's reason", d)
	}
}

func TestExitAfterRequestHook(t *testing.T) {
	var calls atomic.Int32
	f := newFixture(t, func(c *HandlerConfig) { c.Entitled = func() { calls.Add(1) } })
	f.do("GET", "/healthz", "")
	f.do("GET", "/", "")
	if calls.Load() != 0 {
		t.Fatalf("the status page and health check count as entitlement requests")
	}
	f.do("POST", "/softwareEntitlements", "") // even a refused one counts
	if n := calls.Load(); n != 1 {
		t.Errorf("Entitled called %d times after one entitlement request, want 1", n)
	}
}

func TestHealth(t *testing.T) {
	f := newFixture(t)
	if r := f.do("GET", "/healthz", ""); r.status != 200 || r.raw != "ok\n" {
		t.Errorf("/healthz: %d %q", r.status, r.raw)
	}
}
