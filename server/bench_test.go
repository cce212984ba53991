package server

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha512"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/seskit/ses/tool"
)

// The server's figures, read together from one run:
//
//	go test ./server -run XXX -bench 'Handler|CryptoFloor|LeaseMemory'
//
// RepeatedToken should reach 80% of Baseline's req/s, NewToken 80% of
// CryptoFloor's ops/s.

// tlsServer serves h over TLS on 127.0.0.1 and returns a keep-alive client.
func tlsServer(b *testing.B, h http.Handler) (*httptest.Server, *http.Client) {
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv.Listener = l
	srv.StartTLS()
	b.Cleanup(srv.Close)
	c := srv.Client()
	c.Transport.(*http.Transport).MaxIdleConnsPerHost = 4
	return srv, c
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

func benchFixture(b *testing.B) (*Handler, func() string) {
	sign, enc := testCreds(b)
	now := time.Now()
	h := NewHandler(Config{Verifier: &tool.Verifier{Sign: sign.Certificate, Decrypt: enc}, MaxLease: time.Hour, Log: zerolog.Nop()})
	mint := func() string {
		tok, err := tool.Seal(tool.Claims{ID: tool.NewTokenID(), Issuer: tool.DefaultIssuer, Audience: tool.DefaultAudience,
			NotBefore: now.Add(-time.Minute), Expiry: now.Add(time.Hour), IssuedAt: now,
			Applications: []string{"contosoapp"}, Addresses: []string{"127.0.0.1"}}, sign, enc.Certificate)
		if err != nil {
			b.Fatal(err)
		}
		return tok
	}
	return h, mint
}

func reportRate(b *testing.B, unit string) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
}

func BenchmarkHandlerRepeatedToken(b *testing.B) {
	h, mint := benchFixture(b)
	srv, c := tlsServer(b, h)
	req := body(mint(), "contosoapp")
	url := srv.URL + "/softwareEntitlements?api-version=2017-09-01.6.0"
	post(b, c, url, req)
	for b.Loop() {
		post(b, c, url, req)
	}
	reportRate(b, "req/s")
}

func BenchmarkHandlerNewToken(b *testing.B) {
	h, mint := benchFixture(b)
	srv, c := tlsServer(b, h)
	url := srv.URL + "/softwareEntitlements?api-version=2017-09-01.6.0"
	post(b, c, url, body(mint(), "contosoapp"))
	tokens := make([]string, b.N)
	for i := range tokens {
		tokens[i] = body(mint(), "contosoapp")
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		post(b, c, url, tokens[i])
	}
	reportRate(b, "req/s")
}

// BenchmarkHandlerBaseline is a TLS handler that reads the body and answers
// constant JSON: what HTTP and TLS cost without any entitlement work.
func BenchmarkHandlerBaseline(b *testing.B) {
	_, mint := benchFixture(b)
	srv, c := tlsServer(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"entitlement-00000000-0000-0000-0000-000000000000","expiry":"2026-11-29T00:00:00Z"}`+"\n")
	}))
	req := body(mint(), "contosoapp")
	post(b, c, srv.URL, req)
	for b.Loop() {
		post(b, c, srv.URL, req)
	}
	reportRate(b, "req/s")
}

// BenchmarkCryptoFloor is one RSA-2048 OAEP decryption and one RS512
// verification: the least a new token can cost.
func BenchmarkCryptoFloor(b *testing.B) {
	sign, enc := testCreds(b)
	wrapped, _ := rsa.EncryptOAEP(sha1.New(), rand.Reader, enc.Certificate.PublicKey.(*rsa.PublicKey), make([]byte, 64), nil)
	digest := sha512.Sum512([]byte("payload"))
	sig, _ := sign.Key.Sign(rand.Reader, digest[:], crypto.SHA512)
	priv, pub := enc.Key.(*rsa.PrivateKey), sign.Certificate.PublicKey.(*rsa.PublicKey)
	for b.Loop() {
		if _, err := rsa.DecryptOAEP(sha1.New(), nil, priv, wrapped, nil); err != nil {
			b.Fatal(err)
		}
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA512, digest[:], sig); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, "ops/s")
}

// BenchmarkLeaseMemory holds a million active leases in memory and reports
// the heap they take per lease.
func BenchmarkLeaseMemory(b *testing.B) {
	const n = 1_000_000
	now := time.Now()
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		l := NewLeases()
		for range n {
			l.Acquire(Lease{Application: "contosoapp", Remote: "10.0.0.1", TokenID: "token-00000000-0000-0000-0000-000000000000",
				TokenExpiry: now.Add(2 * time.Hour), Expiry: now.Add(time.Hour)}, now)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/lease")
		runtime.KeepAlive(l)
	}
}
