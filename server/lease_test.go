package server

import (
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/seskit/ses/tool"
)

const leaseV = "?api-version=" + tool.LeaseAPIVersion

func leaseBody(token, app, duration string) string {
	b, _ := json.Marshal(map[string]string{"token": token, "applicationId": app, "duration": duration})
	return string(b)
}

func (f *fixture) acquire(token, duration string) string {
	f.t.Helper()
	code, m := f.do("POST", "/softwareEntitlements"+leaseV, leaseBody(token, "contosoapp", duration))
	if code != 200 {
		f.t.Fatalf("acquire: %d %v", code, m)
	}
	return m["entitlementId"].(string)
}

func TestLeasing(t *testing.T) {
	f := newFixture(t)
	tok := f.token(nil) // expires at now + 2h

	code, m := f.do("POST", "/softwareEntitlements"+leaseV, leaseBody(tok, "contosoapp", "PT5M"))
	id, _ := m["entitlementId"].(string)
	if code != 200 || len(id) != 32 || m["initialExpiryTime"] != "2026-11-22T10:05:00Z" {
		t.Fatalf("acquire: %d %v", code, m)
	}

	for _, tt := range []struct {
		name, duration string
		status         int
	}{
		{"missing duration", "", 400},
		{"not ISO 8601", "5m", 400},
		{"zero", "PT0S", 400},
		{"longer than --max-lease", "PT2H", 400},
		{"at most --max-lease", "PT1H", 200},
	} {
		if code, m := f.do("POST", "/softwareEntitlements"+leaseV, leaseBody(tok, "contosoapp", tt.duration)); code != tt.status {
			t.Errorf("acquire with %s: %d %v, want %d", tt.name, code, m, tt.status)
		}
	}
	// A lease never outlives its token.
	short := f.token(func(c *tool.Claims) { c.Expiry = f.now.Add(3 * time.Minute) })
	if _, m := f.do("POST", "/softwareEntitlements"+leaseV, leaseBody(short, "contosoapp", "PT10M")); m["initialExpiryTime"] != "2026-11-22T10:03:00Z" {
		t.Errorf("lease on a token expiring in 3m: %v, want the token's expiry", m)
	}
	// Leasing needs a good token like any request.
	if code, _ := f.do("POST", "/softwareEntitlements"+leaseV, leaseBody(tok, "otherapp", "PT5M")); code != 403 {
		t.Errorf("acquire for another app: %d, want 403", code)
	}

	// Renew, then release twice, then renew: 409 AlreadyReleased.
	f.now = f.now.Add(4 * time.Minute)
	code, m = f.do("POST", "/softwareEntitlements/"+id+leaseV, `{"duration":"PT10M"}`)
	if code != 200 || m["expiryTime"] != "2026-11-22T10:14:00Z" {
		t.Fatalf("renew: %d %v", code, m)
	}
	if code, m := f.do("POST", "/softwareEntitlements/"+id+"?api-version=2017-09-01.6.0", `{"duration":"PT10M"}`); code != 400 {
		t.Errorf("renew with a non-leasing api-version: %d %v, want 400", code, m)
	}
	for range 2 {
		if code, _ := f.do("DELETE", "/softwareEntitlements/"+id+leaseV, ""); code != 204 {
			t.Errorf("release: %d, want 204", code)
		}
	}
	if code, m := f.do("POST", "/softwareEntitlements/"+id+leaseV, `{"duration":"PT5M"}`); code != 409 || m["code"] != "AlreadyReleased" {
		t.Errorf("renew after release: %d %v, want 409 AlreadyReleased", code, m)
	}
	if code, m := f.do("POST", "/softwareEntitlements/0123456789abcdef0123456789abcdef"+leaseV, `{"duration":"PT5M"}`); code != 404 || m["code"] != "NotFound" {
		t.Errorf("renew of an unknown id: %d %v, want 404 NotFound", code, m)
	}
	if code, _ := f.do("DELETE", "/softwareEntitlements/0123456789abcdef0123456789abcdef"+leaseV, ""); code != 404 {
		t.Errorf("release of an unknown id: %d, want 404", code)
	}

	// Once expired: 409 LeaseExpired (and later, once swept, 404).
	id2 := f.acquire(tok, "PT5M")
	f.now = f.now.Add(6 * time.Minute)
	if code, m := f.do("POST", "/softwareEntitlements/"+id2+leaseV, `{"duration":"PT5M"}`); code != 409 || m["code"] != "LeaseExpired" {
		t.Errorf("renew after expiry: %d %v, want 409 LeaseExpired", code, m)
	}
	f.now = f.now.Add(2 * leaseRetention)
	if code, _ := f.do("POST", "/softwareEntitlements/"+id2+leaseV, `{"duration":"PT5M"}`); code != 404 {
		t.Errorf("renew long after expiry: %d, want 404 once swept", code)
	}
	if n := f.h.cfg.Leases.Len(); n != 0 {
		t.Errorf("%d leases remembered after the sweep, want 0", n)
	}
}

func TestRenewRechecksToken(t *testing.T) {
	f := newFixture(t)
	tok := f.token(func(c *tool.Claims) { c.Expiry = f.now.Add(10 * time.Minute) })
	id := f.acquire(tok, "PT10M")
	f.now = f.now.Add(9 * time.Minute)
	if code, m := f.do("POST", "/softwareEntitlements/"+id+leaseV, `{"duration":"PT10M"}`); code != 200 || m["expiryTime"] != "2026-11-22T10:10:00Z" {
		t.Errorf("renew near the token's expiry: %d %v, want the token's expiry", code, m)
	}
}

func TestConcurrentLeaseOperations(t *testing.T) {
	f := newFixture(t)
	id := f.acquire(f.token(nil), "PT30M")
	var wg sync.WaitGroup
	counts := make(chan int, 64)
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%4 == 3 {
				code, _ := f.do("DELETE", "/softwareEntitlements/"+id+leaseV, "")
				counts <- code
				return
			}
			code, _ := f.do("POST", "/softwareEntitlements/"+id+leaseV, `{"duration":"PT10M"}`)
			counts <- code
		}()
	}
	wg.Wait()
	close(counts)
	for c := range counts {
		if c != 200 && c != 204 && c != 409 {
			t.Errorf("status %d under concurrency, want 200, 204 or 409", c)
		}
	}
	if code, _ := f.do("POST", "/softwareEntitlements/"+id+leaseV, `{"duration":"PT10M"}`); code != 409 {
		t.Errorf("after the releases: %d, want 409", code)
	}
}

func TestLeaseFileSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leases.db")
	now := time.Now()
	l, err := OpenLeases(path)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := l.Acquire(Lease{Application: "contosoapp", Expiry: now.Add(time.Hour), TokenExpiry: now.Add(2 * time.Hour)}, now)
	b, _ := l.Acquire(Lease{Application: "contosoapp", Expiry: now.Add(time.Hour), TokenExpiry: now.Add(2 * time.Hour)}, now)
	l.Release(b.ID, now)
	l.Close()

	l, err = OpenLeases(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	active := l.Active(now)
	if len(active) != 1 || active[0].ID != a.ID {
		t.Fatalf("after a restart: %+v, want lease %s alone active", active, a.ID)
	}
	if _, err := l.Renew(b.ID, now, func(Lease) (time.Time, error) { return now.Add(time.Minute), nil }); err != errReleased {
		t.Errorf("renewing the released lease after a restart: %v, want %v", err, errReleased)
	}
}
