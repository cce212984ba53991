package acs

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seskit/ses/internal/contract"
	"github.com/seskit/ses/tool"
)

const (
	agentKey   = "zOT21KxyIjvk299o2cIlU987B3/3KbH/cZf0W8DNO0Q="
	partnerKey = "3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	partnerOld = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
	policyKey  = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA="
	adminScope = "https://localhost:4443/admin"
)

func load(t testing.TB) *Namespace {
	t.Helper()
	ns, err := Load("testdata/namespace.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

func mustLoad(t *testing.T, path string) *Namespace {
	t.Helper()
	ns, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// testEndpoint is the WRAP endpoint the test services say they are.
const testEndpoint = "https://localhost:4443/WRAPv0.9/"

// service serves the test namespace with a settable clock.
func service(t testing.TB) (*Service, *clock) {
	c := &clock{t: time.Now()}
	return NewService(load(t), Options{Path: "testdata/namespace.yaml", Endpoint: testEndpoint, Now: c.Now}), c
}

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func key(s string) []byte { k, _ := tool.ParseSWTKey(s); return k }

// checked is h with every answer checked against the server's OpenAPI
// document: one that breaks it fails t.
func checked(t testing.TB, h http.Handler) http.Handler {
	c, err := contract.Load(func() ([]byte, error) { return os.ReadFile("../openapi.json") })
	if err != nil {
		t.Fatal(err)
	}
	return c.Handler(t, h)
}

// post sends a WRAP request over HTTPS to the namespace.
func post(t *testing.T, srv *httptest.Server, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := srv.Client().PostForm(srv.URL+"/WRAPv0.9/", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func assertion(issuer, keyB64 string, claims ...tool.SWTClaim) string {
	return tool.SignSWT(tool.SWT{Issuer: issuer, Audience: testEndpoint, ExpiresOn: time.Now().Add(time.Minute), Claims: claims}, key(keyB64))
}

func TestWRAP(t *testing.T) {
	svc, _ := service(t)
	srv := httptest.NewTLSServer(checked(t, svc))
	defer srv.Close()

	tests := []struct {
		name    string
		form    url.Values
		status  int
		actions []string
		groups  []string
	}{
		{name: "password profile", status: 200, actions: []string{"Manage"},
			form: url.Values{"wrap_name": {"buildagent"}, "wrap_password": {agentKey}, "wrap_scope": {adminScope}}},
		{name: "scope below the AppliesTo", status: 200, actions: []string{"Manage"},
			form: url.Values{"wrap_name": {"buildagent"}, "wrap_password": {agentKey}, "wrap_scope": {adminScope + "/leases"}}},
		{name: "assertion profile", status: 200, actions: []string{"Manage"}, groups: []string{"ops", "dev"},
			form: url.Values{"wrap_assertion_format": {"SWT"}, "wrap_scope": {adminScope}, "wrap_assertion": {assertion("partner", partnerKey,
				tool.SWTClaim{Name: "group", Values: []string{"ops", "dev"}}, tool.SWTClaim{Name: "role", Values: []string{"operator"}})}}},
		{name: "assertion with the previous key", status: 200, groups: []string{"ops"},
			form: url.Values{"wrap_assertion_format": {"SWT"}, "wrap_scope": {adminScope}, "wrap_assertion": {assertion("partner", partnerOld,
				tool.SWTClaim{Name: "group", Values: []string{"ops"}})}}},
		{name: "wrong password", status: 401,
			form: url.Values{"wrap_name": {"buildagent"}, "wrap_password": {partnerKey}, "wrap_scope": {adminScope}}},
		{name: "unknown issuer", status: 401,
			form: url.Values{"wrap_name": {"nobody"}, "wrap_password": {agentKey}, "wrap_scope": {adminScope}}},
		{name: "assertion signed with another key", status: 401,
			form: url.Values{"wrap_assertion_format": {"SWT"}, "wrap_scope": {adminScope}, "wrap_assertion": {assertion("partner", agentKey,
				tool.SWTClaim{Name: "group", Values: []string{"ops"}})}}},
		{name: "no claims granted", status: 401,
			form: url.Values{"wrap_assertion_format": {"SWT"}, "wrap_scope": {adminScope}, "wrap_assertion": {assertion("partner", partnerKey,
				tool.SWTClaim{Name: "role", Values: []string{"guest"}})}}},
		{name: "unknown scope", status: 400,
			form: url.Values{"wrap_name": {"buildagent"}, "wrap_password": {agentKey}, "wrap_scope": {"https://elsewhere/admin"}}},
		{name: "scope on a segment boundary only", status: 400,
			form: url.Values{"wrap_name": {"buildagent"}, "wrap_password": {agentKey}, "wrap_scope": {adminScope + "istration"}}},
		{name: "no scope", status: 400, form: url.Values{"wrap_name": {"buildagent"}, "wrap_password": {agentKey}}},
		{name: "no credentials", status: 400, form: url.Values{"wrap_scope": {adminScope}}},
		{name: "unsupported assertion format", status: 400,
			form: url.Values{"wrap_assertion_format": {"SAML"}, "wrap_assertion": {"x"}, "wrap_scope": {adminScope}}},
		{name: "both profiles", status: 400,
			form: url.Values{"wrap_name": {"buildagent"}, "wrap_password": {agentKey}, "wrap_assertion_format": {"SWT"}, "wrap_scope": {adminScope}}},
		{name: "repeated parameter", status: 400,
			form: url.Values{"wrap_name": {"buildagent", "partner"}, "wrap_password": {agentKey}, "wrap_scope": {adminScope}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(t, srv, tt.form)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tt.status)
			}
			if tt.status == 401 && resp.Header.Get("WWW-Authenticate") != "WRAP" {
				t.Errorf("401 without WWW-Authenticate: WRAP")
			}
			if tt.status != 200 {
				return
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
				t.Errorf("content type %q", ct)
			}
			form, err := url.ParseQuery(body)
			if err != nil || form.Get("wrap_access_token_expires_in") != "3600" {
				t.Fatalf("body %q", body)
			}
			tok, err := tool.VerifySWT(form.Get("wrap_access_token"), tool.SWTExpect{Keys: [][]byte{key(policyKey)},
				Issuer: "https://ses-acs.localhost/", Audience: adminScope, Now: time.Now()})
			if err != nil {
				t.Fatalf("issued token: %v", err)
			}
			if got := strings.Join(tok.Values("action"), ","); got != strings.Join(tt.actions, ",") {
				t.Errorf("action %q, want %q", got, tt.actions)
			}
			if got := strings.Join(tok.Values("group"), ","); got != strings.Join(tt.groups, ",") {
				t.Errorf("group %q, want %q", got, tt.groups)
			}
		})
	}
}

func TestAuthorize(t *testing.T) {
	ns, _ := service(t)
	sign := func(audience string, expires time.Time, actions ...string) string {
		return tool.SignSWT(tool.SWT{Issuer: "https://ses-acs.localhost/", Audience: audience, ExpiresOn: expires,
			Claims: []tool.SWTClaim{{Name: "action", Values: actions}}}, key(policyKey))
	}
	later := time.Now().Add(time.Hour)
	tests := []struct {
		name   string
		header string
		ok     bool
	}{
		{"Manage", `WRAP access_token="` + sign(adminScope, later, "Read", "Manage") + `"`, true},
		{"without Manage", `WRAP access_token="` + sign(adminScope, later, "Read") + `"`, false},
		{"another audience", `WRAP access_token="` + sign("https://localhost:4443/other", later, "Manage") + `"`, false},
		{"expired", `WRAP access_token="` + sign(adminScope, time.Now().Add(-time.Minute), "Manage") + `"`, false},
		{"another key", `WRAP access_token="` + tool.SignSWT(tool.SWT{Issuer: "https://ses-acs.localhost/", Audience: adminScope, ExpiresOn: later,
			Claims: []tool.SWTClaim{{Name: "action", Values: []string{"Manage"}}}}, key(agentKey)) + `"`, false},
		{"Bearer scheme", `Bearer ` + sign(adminScope, later, "Manage"), false},
		{"no header", ``, false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/admin/leases", nil)
		if tt.header != "" {
			r.Header.Set("Authorization", tt.header)
		}
		if err := ns.Authorize(r, adminScope, "Manage"); (err == nil) != tt.ok {
			t.Errorf("%s: %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	good, _ := os.ReadFile("testdata/namespace.yaml")
	tests := []struct {
		name, from, to, want string
	}{
		{"bad key", "key: zOT21KxyIjvk299o2cIlU987B3/3KbH/cZf0W8DNO0Q=", "key: not*base64", "line 12: issuers.key"},
		{"unknown policy", "tokenPolicy: admin", "tokenPolicy: nosuch", `line 27: scopes.tokenPolicy: no token policy named "nosuch"`},
		{"unknown field", "previousKey:", "prevKey:", "line 15: field prevKey not found"},
		{"rule for an unknown issuer", "{issuer: partner, type: group}", "{issuer: stranger, type: group}", `line 33: rules.input.issuer: no issuer named "stranger"`},
		{"bad lifetime", "lifetime: 1h", "lifetime: soon", "line 20: tokenPolicies.lifetime"},
		{"not YAML", "scopes:", "scopes: [", "line"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(strings.Replace(string(good), tt.from, tt.to, 1)))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	// JSON is YAML.
	if _, err := Parse([]byte(`{"issuer":"https://ns/","tokenPolicies":[{"name":"p","key":"` + policyKey + `"}],"scopes":[{"appliesTo":"https://x/admin","tokenPolicy":"p"}]}`)); err != nil {
		t.Errorf("JSON namespace: %v", err)
	}
}

func FuzzDecodeForm(f *testing.F) {
	f.Add("wrap_name=a&wrap_password=b&wrap_scope=https%3A%2F%2Fx")
	f.Add("a=1&a=2")
	f.Add("%zz")
	svc, _ := service(f)
	f.Fuzz(func(t *testing.T, body string) {
		form, err := decodeForm(body)
		if err != nil {
			return
		}
		a := svc.issue(form, "peer\x00fuzz")
		if (a.err == nil) != (a.status == 200) || (a.status == 200) != (a.token != "") {
			t.Fatalf("status %d with error %v and token %q", a.status, a.err, a.token)
		}
	})
}
