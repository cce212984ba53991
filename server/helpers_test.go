package server

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/seskit/ses/internal/contract"
	"github.com/seskit/ses/internal/testpki"
	"github.com/seskit/ses/tool"
)

// testCreds returns the signing and encryption credentials the test
// handlers trust, and one they do not, shared by the tests of the process.
func testCreds(t testing.TB) (sign, enc, other *tool.Credential) {
	t.Helper()
	return credential(testpki.Signing(t)), credential(testpki.Encryption(t)), credential(testpki.Other(t))
}

func credential(c *testpki.Cert) *tool.Credential {
	return &tool.Credential{Certificate: c.Certificate, Key: c.Key}
}

// patience bounds every wait of these tests: generous, so that only a hang
// reaches it.
const patience = time.Minute

// await receives from ch, failing the test if nothing comes within
// patience.
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(patience):
		t.Fatalf("%s: still waiting after %v", what, patience)
	}
	var zero T
	return zero
}

// devStore is a development PKI made once, by the real store code, for the
// tests that run the command itself.
var devStore = testpki.Store{Make: func(dir string) error {
	_, err := (&tool.Store{Dir: dir}).Dev()
	return err
}}

// devPKI copies the shared development PKI into the store folder dir and
// returns it.
func devPKI(t *testing.T, dir string) *tool.DevPKI {
	t.Helper()
	if err := devStore.CopyTo(dir); err != nil {
		t.Fatal(err)
	}
	store := &tool.Store{Dir: dir}
	if !store.HasDev() {
		t.Fatalf("the copied store %s has no development PKI", dir)
	}
	pki, err := store.Dev()
	if err != nil {
		t.Fatal(err)
	}
	return pki
}

// clock is a settable time, safe to read from the server's goroutines.
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

// checker is the contract check of openapi.json.
func checker(t testing.TB) *contract.Checker {
	c, err := contract.Load(func() ([]byte, error) { return openAPIDocument, nil })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checked is h with every answer checked against openapi.json: one that
// breaks the document fails t.
func checked(t testing.TB, h http.Handler) http.Handler { return checker(t).Handler(t, h) }

// checkAnswer fails t when resp, whose body was body, breaks openapi.json:
// for the tests of a whole server, whose handler they cannot wrap.
func checkAnswer(t testing.TB, resp *http.Response, body []byte) {
	if err := checker(t).Check(resp.Request, resp.StatusCode, resp.Header, body); err != nil {
		t.Errorf("contract: %v", err)
	}
}

// fixture is the handler served over TLS on 127.0.0.1, with a settable
// clock and a token maker. Every answer is checked against openapi.json
// (served is h so checked).
type fixture struct {
	t      *testing.T
	h      *Handler
	served http.Handler
	srv    *httptest.Server
	client *http.Client
	clock  *clock
	start  time.Time
	sign   *tool.Credential
	enc    *tool.Credential
	other  *tool.Credential
}

func newFixture(t *testing.T, mod ...func(*HandlerConfig)) *fixture {
	sign, enc, other := testCreds(t)
	start := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	f := &fixture{t: t, clock: &clock{t: start}, start: start, sign: sign, enc: enc, other: other}
	cfg := HandlerConfig{
		Verifier: &tool.Verifier{Sign: sign.Certificate, Decrypt: enc},
		MaxLease: time.Hour,
		Log:      zerolog.Nop(),
		Now:      f.clock.Now,
	}
	for _, m := range mod {
		m(&cfg)
	}
	f.h = NewHandler(cfg)
	f.served = checked(t, f.h)
	f.srv = httptest.NewTLSServer(f.served) // listens on 127.0.0.1, port picked
	t.Cleanup(f.srv.Close)
	f.client = f.srv.Client()
	f.client.Timeout = patience
	return f
}

// claims are those of a good token for contosoapp on 127.0.0.1, valid for
// two hours from the fixture's start.
func (f *fixture) claims() tool.Claims {
	return tool.Claims{
		ID: tool.NewTokenID(), Issuer: tool.DefaultIssuer, Audience: tool.DefaultAudience,
		NotBefore: f.start.Add(-time.Minute), Expiry: f.start.Add(2 * time.Hour), IssuedAt: f.start,
		Applications: []string{"contosoapp"}, Addresses: []string{"127.0.0.1"}, VMID: "vm-7",
	}
}

// token seals the fixture's claims, changed by mod.
func (f *fixture) token(mod func(*tool.Claims)) string {
	c := f.claims()
	if mod != nil {
		mod(&c)
	}
	tok, err := tool.Seal(c, f.sign, f.enc.Certificate)
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

// response is an answer of the server, its JSON body decoded.
type response struct {
	status int
	header http.Header
	raw    string
	json   map[string]any
}

func (r response) code() string {
	s, _ := r.json["code"].(string)
	return s
}

func (r response) message() string {
	msg, _ := r.json["message"].(map[string]any)
	s, _ := msg["value"].(string)
	return s
}

func (r response) str(name string) string {
	s, _ := r.json[name].(string)
	return s
}

// do sends a request over TLS; mod may change it before it goes.
func (f *fixture) do(method, path, body string, mod ...func(*http.Request)) response {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for _, m := range mod {
		m(req)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(data)}
	json.Unmarshal(data, &r.json)
	return r
}

func body(token, app string) string {
	b, _ := json.Marshal(map[string]string{"token": token, "applicationId": app})
	return string(b)
}

func leaseBody(token, app, duration string) string {
	b, _ := json.Marshal(map[string]string{"token": token, "applicationId": app, "duration": duration})
	return string(b)
}

// devToken mints a token for contosoapp on 127.0.0.1 with a development
// PKI, and returns the pool that trusts the PKI's root.
func devToken(t *testing.T, pki *tool.DevPKI) (string, *x509.CertPool) {
	t.Helper()
	now := time.Now()
	tok, err := tool.Seal(tool.Claims{ID: tool.NewTokenID(), Issuer: tool.DefaultIssuer, Audience: tool.DefaultAudience,
		NotBefore: now, Expiry: now.Add(time.Hour), IssuedAt: now, Applications: []string{"contosoapp"},
		Addresses: []string{"127.0.0.1"}}, pki.Signing, pki.Encryption.Certificate)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(pki.Root.Certificate)
	return tok, roots
}

// syncBuffer is a bytes.Buffer the server and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
