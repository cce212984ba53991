package server

import (
	"crypto/rsa"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/seskit/ses/internal/testpki"
	"github.com/seskit/ses/tool"
)

// BenchmarkServer drives the real handler over TLS with keep-alive, one
// request at a time, beside what bounds it, all in req/s:
//
//	go test ./server -run XXX -bench Server
//
//	RepeatedToken  one token presented again and again (the token cache)
//	NewToken       a new token every request (RSA work each time)
//	Baseline       a TLS handler that reads the body and returns constant JSON
//	CryptoFloor    one RSA-2048 OAEP decryption and one RS512 verification
//
// RepeatedToken should reach 80% of Baseline, NewToken 80% of CryptoFloor.
func BenchmarkServer(b *testing.B) {
	sign, enc, _ := testCreds(b)
	now := time.Now()
	mint := func() string {
		tok, err := tool.Seal(tool.Claims{ID: tool.NewTokenID(), Issuer: tool.DefaultIssuer, Audience: tool.DefaultAudience,
			NotBefore: now.Add(-time.Minute), Expiry: now.Add(time.Hour), IssuedAt: now,
			Applications: []string{"contosoapp"}, Addresses: []string{"127.0.0.1"}}, sign, enc.Certificate)
		if err != nil {
			b.Fatal(err)
		}
		return body(tok, "contosoapp")
	}
	handler := func() http.Handler {
		// A real logger, so the per-request line is part of the cost.
		return NewHandler(HandlerConfig{Verifier: &tool.Verifier{Sign: sign.Certificate, Decrypt: enc},
			MaxLease: time.Hour, Log: zerolog.New(io.Discard).With().Timestamp().Logger()})
	}
	const path = "/softwareEntitlements?api-version=2017-09-01.6.0"

	b.Run("RepeatedToken", func(b *testing.B) {
		srv, c := tlsServer(b, handler())
		req := mint()
		post(b, c, srv.URL+path, req) // the connection, and the token in the cache
		for b.Loop() {
			post(b, c, srv.URL+path, req)
		}
		reportRate(b)
	})
	b.Run("NewToken", func(b *testing.B) {
		srv, c := tlsServer(b, handler())
		post(b, c, srv.URL+path, mint())
		reqs := make([]string, b.N)
		for i := range reqs {
			reqs[i] = mint()
		}
		b.ResetTimer()
		for i := range b.N {
			post(b, c, srv.URL+path, reqs[i])
		}
		reportRate(b)
	})
	b.Run("Baseline", func(b *testing.B) {
		srv, c := tlsServer(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			io.WriteString(w, `{"id":"entitlement-00000000-0000-4000-8000-000000000000","expiry":"2026-11-29T00:00:00Z"}`+"\n")
		}))
		req := mint()
		post(b, c, srv.URL+path, req)
		for b.Loop() {
			post(b, c, srv.URL+path, req)
		}
		reportRate(b)
	})
	b.Run("CryptoFloor", func(b *testing.B) {
		testpki.CryptoFloor(b, sign.Key.(*rsa.PrivateKey), enc.Key.(*rsa.PrivateKey))
		reportRate(b)
	})
}

// tlsServer serves h over TLS on 127.0.0.1 and returns a keep-alive client.
func tlsServer(b *testing.B, h http.Handler) (*httptest.Server, *http.Client) {
	srv := httptest.NewTLSServer(h)
	b.Cleanup(srv.Close)
	return srv, srv.Client()
}

func post(b *testing.B, c *http.Client, url, body string) {
	resp, err := c.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkLeaseMemory holds a million active leases in memory and reports
// the heap they take per lease. Each lease gets its own copy of the
// application name, as requests bring them.
func BenchmarkLeaseMemory(b *testing.B) {
	const n = 1_000_000
	now := time.Now()
	remote := netip.MustParseAddr("10.0.0.1")
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		l := NewLeases()
		for range n {
			l.Acquire(strings.Clone("contosoapp"), remote, now.Add(2*time.Hour), now.Add(time.Hour), now)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/lease")
		runtime.KeepAlive(l)
	}
}
