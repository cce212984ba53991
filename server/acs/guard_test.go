package acs

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seskit/ses/tool"
)

// wrap posts form to svc from remote and returns the status, the body and
// the Retry-After header. The answer is checked against the OpenAPI
// document.
func wrap(t testing.TB, svc *Service, remote string, form url.Values) (int, string, string) {
	r := httptest.NewRequest("POST", "/WRAPv0.9/", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.RemoteAddr = remote
	w := httptest.NewRecorder()
	checked(t, svc).ServeHTTP(w, r)
	return w.Code, strings.TrimSpace(w.Body.String()), w.Header().Get("Retry-After")
}

func passwordForm(name, password string) url.Values {
	return url.Values{"wrap_name": {name}, "wrap_password": {password}, "wrap_scope": {adminScope}}
}

func assertionForm(a string) url.Values {
	return url.Values{"wrap_assertion_format": {"SWT"}, "wrap_assertion": {a}, "wrap_scope": {adminScope}}
}

// TestAssertionAudience: an assertion must be issued for this namespace or
// this WRAP endpoint; one signed for another service is refused.
func TestAssertionAudience(t *testing.T) {
	svc, clk := service(t)
	role := tool.SWTClaim{Name: "role", Values: []string{"operator"}}
	for _, tt := range []struct {
		audience string
		status   int
	}{
		{testEndpoint, 200},
		{strings.TrimSuffix(testEndpoint, "/"), 200},
		{"https://ses-acs.localhost/", 200},
		{"https://unrelated.example/", 401},
		{"", 401},
		{"https://localhost:4443/admin", 401},
	} {
		a := tool.SignSWT(tool.SWT{Issuer: "partner", Audience: tt.audience, ExpiresOn: clk.Now().Add(time.Minute), Claims: []tool.SWTClaim{role}}, key(partnerKey))
		status, body, _ := wrap(t, svc, "10.0.0.1:1000", assertionForm(a))
		if status != tt.status {
			t.Errorf("audience %q: %d %s, want %d", tt.audience, status, body, tt.status)
		}
		if status == 401 && !strings.Contains(body, "Audience") {
			t.Errorf("audience %q: %q does not say the audience is wrong", tt.audience, body)
		}
	}
}

// TestAssertionLifetime: an assertion with more than MaxAssertionLifetime
// left is refused, however well signed.
func TestAssertionLifetime(t *testing.T) {
	svc, clk := service(t)
	role := tool.SWTClaim{Name: "role", Values: []string{"operator"}}
	for _, tt := range []struct {
		left   time.Duration
		status int
	}{
		{time.Minute, 200},
		{MaxAssertionLifetime, 200},
		{MaxAssertionLifetime + time.Minute, 401},
		{24 * 365 * time.Hour, 401},
	} {
		a := tool.SignSWT(tool.SWT{Issuer: "partner", Audience: testEndpoint, ExpiresOn: clk.Now().Add(tt.left), Claims: []tool.SWTClaim{role}}, key(partnerKey))
		status, body, _ := wrap(t, svc, "10.0.0.1:1000", assertionForm(a))
		if status != tt.status {
			t.Errorf("%s left: %d %s, want %d", tt.left, status, body, tt.status)
		}
	}
}

// TestShortKeys: a key under 32 bytes is refused where the namespace is
// loaded, with its line and field, and as a typed error for the hint.
func TestShortKeys(t *testing.T) {
	good, err := os.ReadFile("testdata/namespace.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ from, to, want string }{
		{"key: zOT21KxyIjvk299o2cIlU987B3/3KbH/cZf0W8DNO0Q=", "key: AQ==", "line 12: issuers.key: the key is 1 byte;"},
		{"previousKey: AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=", "previousKey: AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0e", "line 15: issuers.previousKey: the key is 30 bytes"},
		{"key: q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=", "key: q83vEjRWeJCrze8SNFZ4kA==", "line 21: tokenPolicies.key: the key is 16 bytes"},
	} {
		_, err := Parse([]byte(strings.Replace(string(good), tt.from, tt.to, 1)))
		var short *tool.ShortKeyError
		if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.As(err, &short) {
			t.Errorf("%s: %v, want %q as a ShortKeyError", tt.to, err, tt.want)
		}
	}
}

// TestThrottle: after the free failures, each failure shuts the door for
// longer, per issuer name (existing or not) and per peer; the right
// password is refused while it is shut; waiting (on the service's clock)
// or a success opens it.
func TestThrottle(t *testing.T) {
	svc, clk := service(t)
	wrong := passwordForm("buildagent", partnerKey)
	right := passwordForm("buildagent", agentKey)
	for i := 1; i <= freeFailures+1; i++ {
		if status, body, _ := wrap(t, svc, "10.0.0.1:1000", wrong); status != 401 {
			t.Fatalf("failure %d: %d %s, want 401", i, status, body)
		}
	}
	// Shut for firstDelay: even the right password, from another peer.
	status, body, retry := wrap(t, svc, "10.0.0.2:1000", right)
	if status != http.StatusTooManyRequests || retry != "1" || !strings.Contains(body, "too many failed attempts") {
		t.Fatalf("right password while shut: %d %q Retry-After %q, want 429 after 1", status, body, retry)
	}
	clk.Add(firstDelay)
	// Open again; one more failure shuts it for twice as long.
	if status, body, _ := wrap(t, svc, "10.0.0.1:1000", wrong); status != 401 {
		t.Fatalf("after the wait: %d %s, want 401", status, body)
	}
	if _, _, retry := wrap(t, svc, "10.0.0.2:1000", right); retry != "2" {
		t.Fatalf("second delay: Retry-After %q, want 2", retry)
	}
	clk.Add(2 * firstDelay)
	if status, body, _ := wrap(t, svc, "10.0.0.2:1000", right); status != 200 {
		t.Fatalf("right password after the wait: %d %s", status, body)
	}
	// The success forgot the issuer's failures: three free ones again.
	for i := 1; i <= freeFailures; i++ {
		if status, _, _ := wrap(t, svc, "10.0.0.3:1000", wrong); status != 401 {
			t.Fatalf("after a success, failure %d: %d, want 401", i, status)
		}
	}

	// Per peer: one address trying many names, none of which exists, is
	// shut out too, for every name; another address is not.
	svc, clk = service(t)
	for i := 1; i <= freeFailures+1; i++ {
		wrap(t, svc, "[2001:db8::1]:1000", passwordForm("nobody"+strconv.Itoa(i), agentKey))
	}
	if status, _, _ := wrap(t, svc, "[2001:db8::2]:1000", right); status != http.StatusTooManyRequests {
		t.Errorf("same /64, right password: %d, want 429", status)
	}
	if status, _, _ := wrap(t, svc, "10.0.0.9:1000", right); status != 200 {
		t.Errorf("another peer, right password: %d, want 200", status)
	}
	// A name that does not exist is throttled exactly as one that does.
	for i := 1; i <= freeFailures+1; i++ {
		wrap(t, svc, "10.0.1."+strconv.Itoa(i)+":1000", passwordForm("nosuchissuer", agentKey))
	}
	if status, _, _ := wrap(t, svc, "10.0.2.1:1000", passwordForm("nosuchissuer", agentKey)); status != http.StatusTooManyRequests {
		t.Errorf("unknown issuer after failures: %d, want 429 as for a known one", status)
	}
	// Assertions with a bad signature count as failures as well.
	clk.Add(forgetAfter + time.Second)
	bad := assertion("partner", agentKey, tool.SWTClaim{Name: "role", Values: []string{"operator"}})
	for i := 1; i <= freeFailures+1; i++ {
		wrap(t, svc, "10.0.3."+strconv.Itoa(i)+":1000", assertionForm(bad))
	}
	good := assertion("partner", partnerKey, tool.SWTClaim{Name: "role", Values: []string{"operator"}})
	if status, _, _ := wrap(t, svc, "10.0.4.1:1000", assertionForm(good)); status != http.StatusTooManyRequests {
		t.Errorf("good assertion after bad ones: %d, want 429", status)
	}
}

// TestThrottleBounded: the table of failures does not grow without bound.
func TestThrottleBounded(t *testing.T) {
	th := newThrottle()
	now := time.Now()
	for i := 0; i < maxTracked+500; i++ {
		th.fail(now, issuerKey(strconv.Itoa(i)))
	}
	if len(th.entries) > maxTracked {
		t.Errorf("%d entries, want at most %d", len(th.entries), maxTracked)
	}
}

// TestRefusalsRevealNothing: the answer to a wrong password, or to an
// assertion with a bad signature, is the same whether the issuer exists or
// not, and whether it has one key or two.
func TestRefusalsRevealNothing(t *testing.T) {
	svc, _ := service(t)
	answers := map[string]bool{}
	for i, name := range []string{"buildagent", "partner", "nobody"} { // one key, two keys, none
		_, body, _ := wrap(t, svc, "10.0.5."+strconv.Itoa(i)+":1000", passwordForm(name, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="))
		answers[body] = true
	}
	if len(answers) != 1 {
		t.Errorf("wrong passwords got %d different answers: %v", len(answers), answers)
	}
	answers = map[string]bool{}
	for i, name := range []string{"buildagent", "partner", "nobody"} {
		a := assertion(name, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", tool.SWTClaim{Name: "role", Values: []string{"operator"}})
		_, body, _ := wrap(t, svc, "10.0.6."+strconv.Itoa(i)+":1000", assertionForm(a))
		answers[body] = true
		if strings.ContainsAny(body, "0123456789") {
			t.Errorf("assertion of %s: %q has a number in it", name, body)
		}
	}
	if len(answers) != 1 {
		t.Errorf("bad assertions got %d different answers: %v", len(answers), answers)
	}
}

func TestPeerKey(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"10.0.0.1:443", "10.0.0.1"},
		{"[::ffff:10.0.0.1]:443", "10.0.0.1"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"[fe80::1%eth0]:443", "fe80::/64"},
		{"pipe", "pipe"},
	} {
		if got := peerKey(tt.in); got != "peer\x00"+tt.want {
			t.Errorf("peerKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
