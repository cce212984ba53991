package tool

import (
	"math/rand/v2"
	"net/netip"
	"regexp"
	"testing"
	"time"
)

// TestAdmitsAgreesWithChecks checks the fast decision of Check against the
// explained checks on random tokens and requests.
func TestAdmitsAgreesWithChecks(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	base := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	at := func() time.Time { return base.Add(time.Duration(rng.IntN(600)-300) * time.Second) }
	apps := []string{"", "contosoapp", "ContosoApp", "otherapp"}
	addrs := []string{"10.0.0.1", "::ffff:10.0.0.2", "fe80::1%eth0", "not an address"}
	peers := []netip.Addr{{}, netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("::ffff:10.0.0.2"), netip.MustParseAddr("fe80::1%eth1"), netip.MustParseAddr("10.0.0.3")}
	for range 20000 {
		tok := &Token{Claims: Claims{Applications: []string{"contosoapp"}, Addresses: addrs[:rng.IntN(len(addrs)+1)]}}
		if rng.IntN(4) > 0 {
			tok.Claims.NotBefore = at()
		}
		if rng.IntN(8) > 0 {
			tok.Claims.Expiry = at()
		}
		req := Request{Now: at(), Application: apps[rng.IntN(len(apps))], Address: peers[rng.IntN(len(peers))]}
		passed := true
		for _, c := range tok.checks(req) {
			passed = passed && c.Err == nil
		}
		if tok.admits(req) != passed {
			t.Fatalf("claims %+v, request %+v: admits %v, the checks %v", tok.Claims, req, !passed, passed)
		}
	}
}

// TestCheckAllocatesNothing checks that a token that passes costs no
// allocation: the path of every request with a cached token.
func TestCheckAllocatesNothing(t *testing.T) {
	now := time.Now()
	tok := &Token{Claims: Claims{Expiry: now.Add(time.Hour), Applications: []string{"contosoapp"}, Addresses: []string{"127.0.0.1"}}}
	req := Request{Now: now, Application: "contosoapp", Address: netip.MustParseAddr("127.0.0.1")}
	if n := testing.AllocsPerRun(100, func() {
		if err := tok.Check(req); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Check of a passing token: %v allocations, want 0", n)
	}
}

// TestAppendForms checks that the append forms write what the string forms
// return.
func TestAppendForms(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.FixedZone("x", 3600))
	if got := string(AppendTime([]byte("at "), at)); got != "at 2026-11-22T09:00:00Z" || FormatTime(at) != got[3:] {
		t.Errorf("AppendTime: %q, FormatTime: %q", got, FormatTime(at))
	}
	uuid := regexp.MustCompile(`^xentitlement-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for range 100 {
		if id := string(AppendEntitlementID([]byte("x"))); !uuid.MatchString(id) {
			t.Fatalf("AppendEntitlementID: %q", id)
		}
	}
}
