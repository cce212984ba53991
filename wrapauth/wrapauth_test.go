package wrapauth_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/seskit/ses/tool"
	"github.com/seskit/ses/wrapauth"
)

const (
	issuer   = "https://ses-acs.localhost/"
	audience = "https://localhost/reverser"
)

var (
	current  = []byte("0123456789abcdef0123456789abcdef")
	previous = []byte("previous-key-previous-key-previo")
	stranger = []byte("someone-else's-key-someone-else'")
)

func sign(key []byte, iss, aud string, expires time.Time, claims ...tool.SWTClaim) string {
	return tool.SignSWT(tool.SWT{Issuer: iss, Audience: aud, ExpiresOn: expires, Claims: claims}, key)
}

// serve sends a request with the Authorization header h through the
// validator to a handler that echoes the token's action claim.
func serve(v *wrapauth.Validator, h string) (int, string) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := wrapauth.FromContext(r.Context())
		if !ok {
			http.Error(w, "no token in the context", 500)
			return
		}
		io.WriteString(w, strings.Join(tok.Values("action"), ","))
	})
	r := httptest.NewRequest("GET", "/reverse", nil)
	if h != "" {
		r.Header.Set("Authorization", h)
	}
	w := httptest.NewRecorder()
	v.Handler(next).ServeHTTP(w, r)
	if w.Code == 401 && w.Header().Get("WWW-Authenticate") != "WRAP" {
		return 0, "401 without WWW-Authenticate: WRAP"
	}
	return w.Code, strings.TrimSpace(w.Body.String())
}

func TestHandler(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	v, err := wrapauth.New(wrapauth.Config{Issuer: issuer, Audience: audience, Keys: [][]byte{current, previous}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	later := now.Add(time.Hour)
	act := tool.SWTClaim{Name: "action", Values: []string{"reverse", "read"}}
	header := func(tok string) string { return `WRAP access_token="` + tok + `"` }
	tests := []struct {
		name   string
		header string
		status int
		body   string
	}{
		{"current key", header(sign(current, issuer, audience, later, act)), 200, "reverse,read"},
		{"previous key", header(sign(previous, issuer, audience, later, act)), 200, "reverse,read"},
		{"unquoted", "WRAP access_token=" + sign(current, issuer, audience, later, act), 200, "reverse,read"},
		{"another key", header(sign(stranger, issuer, audience, later, act)), 401, "the token's signature does not verify"},
		{"another issuer", header(sign(current, "https://other/", audience, later, act)), 401, `issuer is "https://other/"`},
		{"another audience", header(sign(current, issuer, "https://localhost/other", later, act)), 401, `audience is "https://localhost/other"`},
		{"expired", header(sign(current, issuer, audience, now, act)), 401, "token expired at 2026-11-22T10:00:00Z"},
		{"no expiry", header(sign(current, issuer, audience, time.Time{}, act)), 401, "token has no ExpiresOn"},
		{"altered", header(strings.Replace(sign(current, issuer, audience, later, act), "read", "rule", 1)), 401, "signature does not verify"},
		{"not an SWT", header("eyJhbGciOiJub25lIn0.e30."), 401, "HMACSHA256"},
		{"Bearer", "Bearer " + sign(current, issuer, audience, later, act), 401, `no "Authorization: WRAP access_token=..." header`},
		{"no header", "", 401, `no "Authorization: WRAP`},
		{"empty token", `WRAP access_token=""`, 401, "empty"},
		{"no access_token", `WRAP token="x"`, 401, "no access_token"},
	}
	for _, tt := range tests {
		status, body := serve(v, tt.header)
		if status != tt.status || !strings.Contains(body, tt.body) {
			t.Errorf("%s: %d %q, want %d %q", tt.name, status, body, tt.status, tt.body)
		}
	}
}

// TestKeyRollover: a token signed with the old key passes while it is the
// previous key and fails once it is retired.
func TestKeyRollover(t *testing.T) {
	v, err := wrapauth.New(wrapauth.Config{Issuer: issuer, Audience: audience, Keys: [][]byte{previous}})
	if err != nil {
		t.Fatal(err)
	}
	act := tool.SWTClaim{Name: "action", Values: []string{"reverse"}}
	oldTok := `WRAP access_token="` + sign(previous, issuer, audience, time.Now().Add(time.Hour), act) + `"`
	newTok := `WRAP access_token="` + sign(current, issuer, audience, time.Now().Add(time.Hour), act) + `"`
	steps := []struct {
		keys     [][]byte
		old, new int
	}{
		{[][]byte{previous}, 200, 401},
		{[][]byte{current, previous}, 200, 200}, // rolled over
		{[][]byte{current}, 401, 200},           // previous retired
	}
	for i, s := range steps {
		if err := v.SetKeys(s.keys...); err != nil {
			t.Fatal(err)
		}
		if got, _ := serve(v, oldTok); got != s.old {
			t.Errorf("step %d: old token %d, want %d", i, got, s.old)
		}
		if got, _ := serve(v, newTok); got != s.new {
			t.Errorf("step %d: new token %d, want %d", i, got, s.new)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	var short *tool.ShortKeyError
	for _, tt := range []struct {
		name string
		cfg  wrapauth.Config
		want string
	}{
		{"no issuer", wrapauth.Config{Audience: audience, Keys: [][]byte{current}}, "no issuer"},
		{"no audience", wrapauth.Config{Issuer: issuer, Keys: [][]byte{current}}, "no audience"},
		{"no key", wrapauth.Config{Issuer: issuer, Audience: audience}, "no key"},
		{"short key", wrapauth.Config{Issuer: issuer, Audience: audience, Keys: [][]byte{current, []byte("short")}}, "key 2: the key is 5 bytes"},
	} {
		_, err := wrapauth.New(tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
		if tt.name == "short key" && !errors.As(err, &short) {
			t.Errorf("short key: %v is not a ShortKeyError", err)
		}
	}
}

// TestRefused: Config.Refused answers instead of the default.
func TestRefused(t *testing.T) {
	var got error
	v, _ := wrapauth.New(wrapauth.Config{Issuer: issuer, Audience: audience, Keys: [][]byte{current},
		Refused: func(w http.ResponseWriter, r *http.Request, err error) {
			got = err
			http.Error(w, "go away", http.StatusTeapot)
		}})
	if status, body := serve(v, ""); status != http.StatusTeapot || body != "go away" || got == nil {
		t.Errorf("%d %q %v", status, body, got)
	}
}

func TestParseKeys(t *testing.T) {
	keys, err := wrapauth.ParseKeys([]byte("# the reverser's policy\n" + tool.NewSWTKey() + "\n\n  " + tool.NewSWTKey() + "  \n"))
	if err != nil || len(keys) != 2 || len(keys[0]) != 32 {
		t.Errorf("%d keys, %v", len(keys), err)
	}
	for _, tt := range []struct{ text, want string }{
		{"", "no key"},
		{"# only a comment\n", "no key"},
		{tool.NewSWTKey() + "\nAQID\n", "line 2: the key is 3 bytes"},
		{"not base64!\n", "line 1: key"},
	} {
		if _, err := wrapauth.ParseKeys([]byte(tt.text)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.text, err, tt.want)
		}
	}
}

// TestCleanLibrary: a protected service that imports wrapauth pulls in no
// command-line or logging package of ses.
func TestCleanLibrary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/seskit/ses/wrapauth").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 || deps[len(deps)-1] != "github.com/seskit/ses/wrapauth" {
		t.Fatalf("go list gave no dependency list:\n%s", out)
	}
	for _, d := range deps {
		for _, banned := range []string{"github.com/alecthomas/kong", "github.com/rs/zerolog", "github.com/seskit/ses/cli", "github.com/seskit/ses/server"} {
			if d == banned || strings.HasPrefix(d, banned+"/") {
				t.Errorf("wrapauth depends on %s", d)
			}
		}
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add(`WRAP access_token="a=b&HMACSHA256=x"`)
	f.Add(`wrap access_token=x`)
	f.Add(`Bearer x`)
	f.Add(`WRAP access_token="`)
	f.Fuzz(func(t *testing.T, h string) {
		tok, err := wrapauth.ParseHeader(h)
		if (err == nil) == (tok == "") {
			t.Fatalf("%q: token %q, error %v", h, tok, err)
		}
		if err == nil && !strings.Contains(h, tok) {
			t.Fatalf("%q: token %q is not in the header", h, tok)
		}
	})
}

func FuzzParseKeys(f *testing.F) {
	f.Add("# keys\n" + tool.NewSWTKey() + "\n" + tool.NewSWTKey() + "\n")
	f.Add("AQID\n")
	f.Add("\n\n#\n")
	f.Fuzz(func(t *testing.T, text string) {
		keys, err := wrapauth.ParseKeys([]byte(text))
		if (err == nil) != (len(keys) > 0) {
			t.Fatalf("%d keys with error %v", len(keys), err)
		}
		for _, k := range keys {
			if len(k) < tool.MinSWTKeySize {
				t.Fatalf("a %d-byte key was let through", len(k))
			}
		}
	})
}
