package server

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seskit/ses/tool"
	bolt "go.etcd.io/bbolt"
)

// from returns a client of the fixture's server whose connections come
// from the loopback address addr (any 127.x.y.z reaches 127.0.0.1).
func (f *fixture) from(addr string) *fixture {
	tr := f.client.Transport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(addr)}}).DialContext
	g := *f
	g.client = &http.Client{Transport: tr}
	f.t.Cleanup(tr.CloseIdleConnections)
	return &g
}

// TestLeaseOwnership checks that only an address the acquiring token
// entitles may renew or release a lease, and that any other hears exactly
// what an unknown id gets.
func TestLeaseOwnership(t *testing.T) {
	f := newFixture(t)
	other := f.from("127.0.0.2")
	unknown := other.do("POST", "/softwareEntitlements/0123456789abcdef0123456789abcdef"+leaseV, `{"duration":"PT5M"}`)
	if unknown.status != 404 {
		t.Fatalf("renewing an unknown id: %d %s", unknown.status, unknown.raw)
	}
	unknownRelease := other.do("DELETE", "/softwareEntitlements/0123456789abcdef0123456789abcdef"+leaseV, "")

	id := f.acquire(f.token(nil), "PT10M") // the token entitles 127.0.0.1 alone
	lease := "/softwareEntitlements/" + id + leaseV
	if r := other.do("POST", lease, `{"duration":"PT5M"}`); r.status != 404 || r.raw != unknown.raw {
		t.Errorf("renewal from an address the token does not entitle: %d %s, want %d %s", r.status, r.raw, unknown.status, unknown.raw)
	}
	if r := other.do("DELETE", lease, ""); r.status != 404 || r.raw != unknownRelease.raw {
		t.Errorf("release from an address the token does not entitle: %d %s, want %d %s", r.status, r.raw, unknownRelease.status, unknownRelease.raw)
	}
	if r := f.do("POST", lease, `{"duration":"PT5M"}`); r.status != 200 {
		t.Errorf("renewal from the acquiring address after the refusals: %d %s", r.status, r.raw)
	}
	// An ended lease is no different: its 409 is for its holder alone.
	if r := f.do("DELETE", lease, ""); r.status != 204 {
		t.Fatalf("release: %d %s", r.status, r.raw)
	}
	if r := other.do("POST", lease, `{"duration":"PT5M"}`); r.status != 404 || r.raw != unknown.raw {
		t.Errorf("renewal of a released lease from another address: %d %s, want 404", r.status, r.raw)
	}
	if r := f.do("POST", lease, `{"duration":"PT5M"}`); r.status != 409 {
		t.Errorf("renewal of a released lease by its holder: %d %s, want 409", r.status, r.raw)
	}

	// Every address of the token may act on its leases.
	both := f.token(func(c *tool.Claims) { c.Addresses = []string{"127.0.0.1", "::ffff:127.0.0.2"} })
	id = f.acquire(both, "PT10M")
	if r := other.do("POST", "/softwareEntitlements/"+id+leaseV, `{"duration":"PT5M"}`); r.status != 200 {
		t.Errorf("renewal from the token's other address: %d %s, want 200", r.status, r.raw)
	}
	if r := other.do("DELETE", "/softwareEntitlements/"+id+leaseV, ""); r.status != 204 {
		t.Errorf("release from the token's other address: %d %s, want 204", r.status, r.raw)
	}
}

// TestLeaseIDsMatchExactly checks that an id in another case names no
// lease: ids are opaque.
func TestLeaseIDsMatchExactly(t *testing.T) {
	f := newFixture(t)
	var id string
	for !strings.ContainsAny(id, "abcdef") {
		id = f.acquire(f.token(nil), "PT10M")
	}
	for _, method := range []string{"POST", "DELETE"} {
		if r := f.do(method, "/softwareEntitlements/"+strings.ToUpper(id)+leaseV, `{"duration":"PT5M"}`); r.status != 404 || r.code() != "NotFound" {
			t.Errorf("%s with the id upper-cased: %d %s, want 404 NotFound", method, r.status, r.raw)
		}
	}
	if r := f.do("POST", "/SoftwareEntitlements/"+id+"/"+leaseV, `{"duration":"PT5M"}`); r.status != 200 {
		t.Errorf("the path in another case, the id as given: %d %s, want 200", r.status, r.raw)
	}
}

// TestLeaseLimitPerToken checks --max-leases-per-token: the acquisition
// past it is refused with 409 TooManyLeases; a release or an expiry makes
// room; other tokens are not affected.
func TestLeaseLimitPerToken(t *testing.T) {
	f := newFixture(t, func(c *HandlerConfig) { c.MaxLeasesPerToken = 2 })
	tok := f.token(nil)
	a := f.acquire(tok, "PT10M")
	f.acquire(tok, "PT20M")
	r := f.do("POST", "/softwareEntitlements"+leaseV, leaseBody(tok, "contosoapp", "PT5M"))
	if r.status != 409 || r.code() != "TooManyLeases" || !strings.Contains(r.message(), "holds 2 active leases") {
		t.Fatalf("a third lease on a limit of 2: %d %s, want 409 TooManyLeases", r.status, r.raw)
	}
	f.acquire(f.token(nil), "PT5M") // another token has its own count
	if r := f.do("DELETE", "/softwareEntitlements/"+a+leaseV, ""); r.status != 204 {
		t.Fatalf("release: %d", r.status)
	}
	f.acquire(tok, "PT5M")
	f.clock.Add(5 * time.Minute) // the PT5M lease expires
	f.acquire(tok, "PT5M")
	if r := f.do("POST", "/softwareEntitlements"+leaseV, leaseBody(tok, "contosoapp", "PT5M")); r.status != 409 {
		t.Errorf("past the limit again: %d %s, want 409", r.status, r.raw)
	}
	if NewHandler(HandlerConfig{}).cfg.MaxLeasesPerToken != DefaultMaxLeasesPerToken {
		t.Error("no limit given does not mean the default")
	}
}

// TestDurationCheckedBeforeToken checks the order of a lease request's
// checks: the duration before the token's presence, as the reference
// server checked them.
func TestDurationCheckedBeforeToken(t *testing.T) {
	f := newFixture(t)
	for body, want := range map[string]string{
		`{"applicationId":"contosoapp"}`:                   "Missing duration from request body",
		`{"applicationId":"contosoapp","duration":"5m"}`:   `Duration "5m" is not a positive ISO 8601 duration`,
		`{"applicationId":"contosoapp","duration":"PT5M"}`: "Missing token from request body",
		`{"token":"x","duration":"PT5M"}`:                  "Missing applicationId from request body",
		`{"duration":"PT2H"}`:                              "Duration PT2H is longer than the longest lease",
	} {
		if r := f.do("POST", "/softwareEntitlements"+leaseV, body); r.status != 400 || !strings.HasPrefix(r.message(), want) {
			t.Errorf("%s: %d %s, want 400 %q", body, r.status, r.raw, want)
		}
	}
}

// TestEndedLeasesBounded churns through more leases than are remembered
// once ended: the table keeps at most maxEnded of them, the newest, and a
// late renewal of one of those still hears 409.
func TestEndedLeasesBounded(t *testing.T) {
	now := time.Now()
	l := NewLeases()
	remote := netip.MustParseAddr("10.0.0.1")
	tok := leaseToken(now.Add(48*time.Hour), "10.0.0.1")
	var first, last Lease
	for i := range maxEnded + 1000 {
		x, err := l.Acquire(tok, "contosoapp", remote, now.Add(time.Hour), now, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Release(x.ID, remote, now); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = x
		}
		last = x
	}
	if n := l.Len(); n > maxEnded+1 {
		t.Errorf("%d leases remembered after %d released, want at most %d", n, maxEnded+1000, maxEnded+1)
	}
	if _, err := l.Renew(last.ID, remote, time.Minute, now); !errors.Is(err, errReleased) {
		t.Errorf("renewing the last released lease: %v, want %v", err, errReleased)
	}
	if _, err := l.Renew(first.ID, remote, time.Minute, now); !errors.Is(err, errLeaseNotFound) {
		t.Errorf("renewing the first released lease, forgotten since: %v, want %v", err, errLeaseNotFound)
	}
	if len(l.ended) != l.order.len() || len(l.byID) != 0 || len(l.expiry) != 0 || len(l.byDigest) != 1 || len(l.byApp) != 1 {
		t.Errorf("ended %d, queued %d, active %d, heap %d, holders %d, apps %d", len(l.ended), l.order.len(), len(l.byID), len(l.expiry), len(l.byDigest), len(l.byApp))
	}
}

// TestActiveSoonestFirst checks Active's walk of the heap against a sort of
// all the leases.
func TestActiveSoonestFirst(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	now := time.Now()
	l := NewLeases()
	remote := netip.MustParseAddr("10.0.0.1")
	tok := leaseToken(now.Add(48*time.Hour), "10.0.0.1")
	var ids []string
	for range 500 {
		x, _ := l.Acquire(tok, "app", remote, now.Add(time.Duration(1+rng.IntN(3600))*time.Second), now, 1<<30)
		ids = append(ids, x.ID)
	}
	for range 100 {
		l.Renew(ids[rng.IntN(len(ids))], remote, time.Duration(1+rng.IntN(7200))*time.Second, now)
		l.Release(ids[rng.IntN(len(ids))], remote, now)
	}
	all, total := l.Active(now, -1)
	if total != len(all) || total < 300 || !slices.IsSortedFunc(all, func(a, b Lease) int { return a.Expiry.Compare(b.Expiry) }) {
		t.Fatalf("all %d leases (total %d) not sorted by expiry", len(all), total)
	}
	for _, k := range []int{0, 1, 2, 7, 100, total, total + 5} {
		got, n := l.Active(now, k)
		if n != total || len(got) != min(k, total) {
			t.Fatalf("Active(%d): %d leases, total %d; want %d of %d", k, len(got), n, min(k, total), total)
		}
		for i := range got {
			if !got[i].Expiry.Equal(all[i].Expiry) {
				t.Fatalf("Active(%d)[%d] expires %s, want %s", k, i, got[i].Expiry, all[i].Expiry)
			}
		}
	}
}

// TestLeaseFileOrder runs renewals and releases of the same leases at once
// on a lease file and checks that what the file holds after a restart is
// what the table held: the changes reach the file in the table's order.
func TestLeaseFileOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leases.db")
	l, err := OpenLeases(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	remote := netip.MustParseAddr("10.0.0.1")
	tok := leaseToken(now.Add(48*time.Hour), "10.0.0.1")
	var ids []string
	for range 20 {
		x, err := l.Acquire(tok, "app", remote, now.Add(time.Hour), now, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, x.ID)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 5))
			for range 200 {
				id := ids[rng.IntN(len(ids))]
				if rng.IntN(8) == 0 {
					l.Release(id, remote, now)
				} else {
					l.Renew(id, remote, time.Duration(1+rng.IntN(7200))*time.Second, now)
				}
			}
		})
	}
	wg.Wait()
	before, _ := l.Active(now, -1)
	l.Close()
	l, err = OpenLeases(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	after, _ := l.Active(now, -1)
	if !slices.Equal(before, after) {
		t.Errorf("after a restart the file holds\n%v\nthe table held\n%v", after, before)
	}
	for _, id := range ids {
		if !slices.ContainsFunc(before, func(x Lease) bool { return x.ID == id }) {
			if _, err := l.Renew(id, remote, time.Minute, now); !errors.Is(err, errReleased) {
				t.Errorf("released lease %s after a restart: %v, want %v", id, err, errReleased)
			}
		}
	}
}

// TestCommitHook checks Leases.Commit: another bucket written in the lease
// file's group commits, durable when it returns; a failing function undoes
// itself alone.
func TestCommitHook(t *testing.T) {
	if err := NewLeases().Commit(func(*bolt.Tx) error { return nil }); err == nil || NewLeases().DB() != nil {
		t.Error("Commit on leases in memory did not fail, or DB is not nil")
	}
	path := filepath.Join(t.TempDir(), "leases.db")
	l, err := OpenLeases(path)
	if err != nil {
		t.Fatal(err)
	}
	bucket := []byte("usage")
	boom := errors.New("boom")
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Go(func() {
			errs[i] = l.Commit(func(tx *bolt.Tx) error {
				b, err := tx.CreateBucketIfNotExists(bucket)
				if err != nil {
					return err
				}
				if err := b.Put([]byte{byte(i)}, []byte("x")); err != nil {
					return err
				}
				if i%4 == 0 {
					return boom
				}
				return nil
			})
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = OpenLeases(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.DB().View(func(tx *bolt.Tx) error {
		for i, err := range errs {
			stored := tx.Bucket(bucket).Get([]byte{byte(i)}) != nil
			if (i%4 == 0) != errors.Is(err, boom) || stored == (i%4 == 0) {
				t.Errorf("function %d: %v, stored %v", i, err, stored)
			}
		}
		return nil
	})
}

func TestFingerprint(t *testing.T) {
	x := Lease{ID: "6e9e3bc200c7af6b91d9ad3657a78297"}
	sum := sha256.Sum256([]byte(x.ID))
	if fp := x.Fingerprint(); fp != hex.EncodeToString(sum[:])[:8] || strings.Contains(x.ID, fp) {
		t.Errorf("fingerprint %q of %s", fp, x.ID)
	}
}
