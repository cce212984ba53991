package server

import (
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seskit/ses/tool"
)

const leaseV = "?api-version=" + tool.LeaseAPIVersion

// leaseToken is an opened token, as the lease table takes it, valid until
// expiry for addresses; each has its own digest.
func leaseToken(expiry time.Time, addresses ...string) *tool.Token {
	tok := &tool.Token{Claims: tool.Claims{Expiry: expiry, Addresses: addresses}}
	crand.Read(tok.Digest[:])
	return tok
}

func (f *fixture) acquire(token, duration string) string {
	f.t.Helper()
	r := f.do("POST", "/softwareEntitlements"+leaseV, leaseBody(token, "contosoapp", duration))
	if r.status != 200 {
		f.t.Fatalf("acquire: %d %s", r.status, r.raw)
	}
	return r.str("entitlementId")
}

func TestAcquire(t *testing.T) {
	f := newFixture(t)
	tok := f.token(nil) // expires at start + 2h

	r := f.do("POST", "/softwareEntitlements"+leaseV, leaseBody(tok, "contosoapp", "PT5M"))
	if r.status != 200 || len(r.str("entitlementId")) != 32 || r.str("initialExpiryTime") != "2026-11-22T10:05:00Z" || len(r.json) != 2 {
		t.Fatalf("acquire: %d %s", r.status, r.raw)
	}
	for _, tt := range []struct {
		name, duration string
		status         int
		msg            string
	}{
		{"missing duration", "", 400, "Missing duration from request body; denying entitlement request."},
		{"not ISO 8601", "5m", 400, `Duration "5m" is not a positive ISO 8601 duration`},
		{"zero", "PT0S", 400, `Duration "PT0S" is not a positive ISO 8601 duration`},
		{"months", "P1M", 400, `Duration "P1M" is not a positive ISO 8601 duration`},
		{"longer than --max-lease", "PT1H0.5S", 400, "Duration PT1H0.5S is longer than the longest lease, PT1H; denying entitlement request."},
		{"at most --max-lease", "PT1H", 200, ""},
		{"lower case", "pt30m", 200, ""},
	} {
		r := f.do("POST", "/softwareEntitlements"+leaseV, leaseBody(tok, "contosoapp", tt.duration))
		if r.status != tt.status || !strings.HasPrefix(r.message(), tt.msg) {
			t.Errorf("acquire with %s: %d %s, want %d %q", tt.name, r.status, r.raw, tt.status, tt.msg)
		}
	}
	// A lease never outlives its token.
	short := f.token(func(c *tool.Claims) { c.Expiry = f.start.Add(3 * time.Minute) })
	if r := f.do("POST", "/softwareEntitlements"+leaseV, leaseBody(short, "contosoapp", "PT10M")); r.str("initialExpiryTime") != "2026-11-22T10:03:00Z" {
		t.Errorf("lease on a token expiring in 3m: %s, want the token's expiry", r.raw)
	}
	// Leasing needs a good token like any request.
	if r := f.do("POST", "/softwareEntitlements"+leaseV, leaseBody(tok, "otherapp", "PT5M")); r.status != 403 || r.code() != "EntitlementDenied" {
		t.Errorf("acquire for another app: %d %s, want 403", r.status, r.raw)
	}
	if r := f.do("POST", "/softwareEntitlements"+leaseV, `{"applicationId":"contosoapp","duration":"PT5M"}`); r.status != 400 {
		t.Errorf("acquire without a token: %d, want 400", r.status)
	}
}

func TestRenewAndRelease(t *testing.T) {
	f := newFixture(t)
	id := f.acquire(f.token(nil), "PT5M")
	lease := "/softwareEntitlements/" + id + leaseV

	f.clock.Add(4 * time.Minute)
	r := f.do("POST", lease, `{"duration":"PT10M"}`)
	if r.status != 200 || r.str("expiryTime") != "2026-11-22T10:14:00Z" || len(r.json) != 1 {
		t.Fatalf("renew: %d %s", r.status, r.raw)
	}
	if r := f.do("POST", "/SoftwareEntitlements/"+id+"/"+leaseV, `{'Duration':'PT10M'}`); r.status != 200 {
		t.Errorf("renew with the reference's tolerances: %d %s", r.status, r.raw)
	}
	for _, tt := range []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"renew without a body", "POST", lease, "", 400, "EntitlementDenied"},
		{"renew without a duration", "POST", lease, `{}`, 400, "EntitlementDenied"},
		{"renew beyond --max-lease", "POST", lease, `{"duration":"PT2H"}`, 400, "EntitlementDenied"},
		{"renew with a non-leasing api-version", "POST", "/softwareEntitlements/" + id + v6, `{"duration":"PT10M"}`, 400, "EntitlementDenied"},
		{"renew without an api-version", "POST", "/softwareEntitlements/" + id, `{"duration":"PT10M"}`, 400, "EntitlementDenied"},
		{"release with a non-leasing api-version", "DELETE", "/softwareEntitlements/" + id + v6, "", 400, "EntitlementDenied"},
		{"renew an unknown id", "POST", "/softwareEntitlements/0123456789abcdef0123456789abcdef" + leaseV, `{"duration":"PT5M"}`, 404, "NotFound"},
		{"renew a malformed id", "POST", "/softwareEntitlements/entitlement-1" + leaseV, `{"duration":"PT5M"}`, 404, "NotFound"},
		{"release an unknown id", "DELETE", "/softwareEntitlements/0123456789abcdef0123456789abcdef" + leaseV, "", 404, "NotFound"},
	} {
		if r := f.do(tt.method, tt.path, tt.body); r.status != tt.status || r.code() != tt.code {
			t.Errorf("%s: %d %s, want %d %s", tt.name, r.status, r.raw, tt.status, tt.code)
		}
	}

	// Release is 204 and idempotent; a renewal after it is 409.
	for range 2 {
		if r := f.do("DELETE", lease, ""); r.status != 204 || r.raw != "" {
			t.Errorf("release: %d %q, want 204 and no body", r.status, r.raw)
		}
	}
	if r := f.do("POST", lease, `{"duration":"PT5M"}`); r.status != 409 || r.code() != "AlreadyReleased" {
		t.Errorf("renew after release: %d %s, want 409 AlreadyReleased", r.status, r.raw)
	}
}

func TestLeaseExpiry(t *testing.T) {
	f := newFixture(t)
	id := f.acquire(f.token(nil), "PT5M")
	f.clock.Add(5 * time.Minute)
	if r := f.do("POST", "/softwareEntitlements/"+id+leaseV, `{"duration":"PT5M"}`); r.status != 409 || r.code() != "LeaseExpired" {
		t.Errorf("renew at expiry: %d %s, want 409 LeaseExpired", r.status, r.raw)
	}
	if r := f.do("DELETE", "/softwareEntitlements/"+id+leaseV, ""); r.status != 204 {
		t.Errorf("release after expiry: %d, want 204", r.status)
	}
	// Long after, the lease is forgotten: 404.
	f.clock.Add(endedRetention + time.Second)
	if r := f.do("POST", "/softwareEntitlements/"+id+leaseV, `{"duration":"PT5M"}`); r.status != 404 {
		t.Errorf("renew long after expiry: %d, want 404 once swept", r.status)
	}
	l := f.h.cfg.Leases
	if n := l.Len(); n != 0 || len(l.byDigest) != 0 || len(l.byApp) != 0 || len(l.free) != len(l.slab) {
		t.Errorf("%d leases remembered after the sweep, %d holders, %d applications, %d of %d slots free; want none", n, len(l.byDigest), len(l.byApp), len(l.free), len(l.slab))
	}
}

func TestRenewNeverOutlivesToken(t *testing.T) {
	f := newFixture(t)
	tok := f.token(func(c *tool.Claims) { c.Expiry = f.start.Add(10 * time.Minute) })
	id := f.acquire(tok, "PT10M")
	f.clock.Add(9 * time.Minute)
	if r := f.do("POST", "/softwareEntitlements/"+id+leaseV, `{"duration":"PT10M"}`); r.status != 200 || r.str("expiryTime") != "2026-11-22T10:10:00Z" {
		t.Errorf("renew near the token's expiry: %d %s, want the token's expiry", r.status, r.raw)
	}
	f.clock.Add(time.Minute)
	if r := f.do("POST", "/softwareEntitlements/"+id+leaseV, `{"duration":"PT10M"}`); r.status != 409 || r.code() != "LeaseExpired" {
		t.Errorf("renew once the token expired: %d %s, want 409 LeaseExpired", r.status, r.raw)
	}
}

// TestRenewRechecksToken reaches the token check behind a renewal directly:
// through the API a lease always ends first, since it never outlives its
// token.
func TestRenewRechecksToken(t *testing.T) {
	now := time.Now()
	l := NewLeases()
	remote := netip.MustParseAddr("10.0.0.1")
	x, _ := l.Acquire(leaseToken(now, "10.0.0.1"), "contosoapp", remote, now.Add(time.Hour), now, 1)
	_, err := l.Renew(x.ID, remote, time.Minute, now.Add(2*tool.Leeway))
	if ce := (*tool.CheckError)(nil); !errors.As(err, &ce) || ce.Reason != tool.ReasonExpired {
		t.Errorf("renewing on an expired token: %v, want %s", err, tool.ReasonExpired)
	}
}

// TestConcurrentLeaseOperations runs acquire, renew and release at once on
// one lease (run it with -race): every answer is one the contract allows,
// and once released the lease stays released.
func TestConcurrentLeaseOperations(t *testing.T) {
	f := newFixture(t)
	tok := f.token(nil)
	id := f.acquire(tok, "PT30M")
	var wg sync.WaitGroup
	statuses := make(chan int, 64)
	for i := range 48 {
		wg.Go(func() {
			var r response
			switch i % 3 {
			case 0:
				r = f.do("POST", "/softwareEntitlements"+leaseV, leaseBody(tok, "contosoapp", "PT5M"))
			case 1:
				r = f.do("POST", "/softwareEntitlements/"+id+leaseV, `{"duration":"PT10M"}`)
			default:
				r = f.do("DELETE", "/softwareEntitlements/"+id+leaseV, "")
			}
			statuses <- r.status
		})
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != 200 && s != 204 && s != 409 {
			t.Errorf("status %d under concurrency, want 200, 204 or 409", s)
		}
	}
	if r := f.do("POST", "/softwareEntitlements/"+id+leaseV, `{"duration":"PT10M"}`); r.status != 409 {
		t.Errorf("after the releases: %d, want 409", r.status)
	}
	if n := f.h.cfg.Leases.Len(); n != 17 {
		t.Errorf("%d leases held, want 17", n)
	}
}

// TestSweep checks the expiry heap against a plain model through random
// acquires, renewals and releases.
func TestSweep(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	now := start
	l := NewLeases()
	model := map[string]time.Time{} // id -> when it ends
	var ids []string
	remote := netip.MustParseAddr("10.0.0.1")
	tok := leaseToken(now.Add(48*time.Hour), "10.0.0.1")
	for range 5000 {
		now = now.Add(time.Duration(rng.IntN(60)) * time.Second)
		op := rng.IntN(10)
		if len(ids) == 0 {
			op = 0
		}
		switch {
		case op < 5:
			x, err := l.Acquire(tok, "app", remote, now.Add(time.Duration(1+rng.IntN(3600))*time.Second), now, 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			model[x.ID] = x.Expiry
			ids = append(ids, x.ID)
		case op < 9:
			id := ids[rng.IntN(len(ids))]
			x, err := l.Renew(id, remote, time.Duration(1+rng.IntN(3600))*time.Second, now)
			if err == nil {
				model[id] = x.Expiry
			}
		default:
			// A release ends the lease now, unless it ended before.
			id := ids[rng.IntN(len(ids))]
			if _, err := l.Release(id, remote, now); err == nil && model[id].After(now) {
				model[id] = now
			}
		}
		for id, exp := range model {
			if exp.Before(now.Add(-endedRetention)) {
				delete(model, id)
			}
		}
		if l.Len() != len(model) {
			t.Fatalf("at %s: %d leases held, model has %d", now.Sub(start), l.Len(), len(model))
		}
	}
	for id, exp := range model {
		_, err := l.Renew(id, remote, time.Minute, now)
		if exp.After(now) && err != nil && !errors.Is(err, errReleased) {
			t.Errorf("live lease %s: %v", id, err)
		}
	}
}

func TestLeaseFileSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leases.db")
	now := time.Now()
	l, err := OpenLeases(path)
	if err != nil {
		t.Fatal(err)
	}
	remote := netip.MustParseAddr("10.0.0.1")
	tok := leaseToken(now.Add(2*time.Hour), "10.0.0.1")
	a, _ := l.Acquire(tok, "contosoapp", remote, now.Add(time.Hour), now, 3)
	b, _ := l.Acquire(tok, "contosoapp", remote, now.Add(time.Hour), now, 3)
	old, _ := l.Acquire(tok, "contosoapp", remote, now.Add(time.Minute), now, 3)
	l.Release(b.ID, remote, now)
	a, _ = l.Renew(a.ID, remote, 90*time.Minute, now)
	l.Close()

	if _, err := OpenLeases(filepath.Join(t.TempDir(), "missing", "leases.db")); err == nil {
		t.Error("opening a lease file in a missing directory worked")
	}
	l, err = OpenLeases(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	active, total := l.Active(now, -1)
	if total != 2 || active[0].ID != old.ID || active[1] != a {
		t.Fatalf("after a restart: %+v, want %s and %+v", active, old.ID, a)
	}
	if _, err := l.Renew(b.ID, remote, time.Minute, now); !errors.Is(err, errReleased) {
		t.Errorf("renewing the released lease after a restart: %v, want %v", err, errReleased)
	}
	// The lease's token is restored: its address alone may renew it, and
	// it counts against the token's limit.
	if _, err := l.Renew(a.ID, netip.MustParseAddr("10.0.0.2"), time.Minute, now); !errors.Is(err, errLeaseNotFound) {
		t.Errorf("renewing from another address after a restart: %v, want %v", err, errLeaseNotFound)
	}
	var tooMany *tooManyLeasesError
	if _, err := l.Acquire(tok, "contosoapp", remote, now.Add(time.Hour), now, 2); !errors.As(err, &tooMany) {
		t.Errorf("a third lease on a token holding 2 after a restart, limit 2: %v, want a refusal", err)
	}
	// Swept leases leave the file too: b (released at now) and old
	// (expired at now+1m) ended more than endedRetention before later.
	later := now.Add(time.Minute + endedRetention + time.Second)
	l.Renew(a.ID, remote, time.Minute, later)
	l.Close()
	l, err = OpenLeases(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if n := l.Len(); n != 1 {
		t.Errorf("after the sweep and a restart: %d leases, want 1 (a)", n)
	}
}

func FuzzParseLeaseID(f *testing.F) {
	for _, s := range []string{"0123456789abcdef0123456789abcdef", "0123456789ABCDEF0123456789ABCDEF", "", "zz", "entitlement-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := parseLeaseID(s)
		if ok && id.String() != s {
			t.Fatalf("%q read as %s: only the id as written names it", s, id)
		}
		var x leaseID
		if len(s) != 2*len(x) {
			return
		}
		if _, err := hex.Decode(x[:], []byte(s)); !ok && err == nil && x.String() == s {
			t.Fatalf("%q refused", s)
		}
	})
}
