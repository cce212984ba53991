package tool

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"sync"
	"testing"
	"time"
)

var (
	keysOnce sync.Once
	testKeys [3]*Credential
)

// testCredentials returns three RSA-2048 credentials made once per test
// binary: sign, encrypt, and another one for "wrong key" cases.
func testCredentials(t testing.TB) (sign, encrypt, other *Credential) {
	t.Helper()
	keysOnce.Do(func() {
		for i, name := range []string{"test signing", "test encryption", "test other"} {
			testKeys[i] = selfSigned(t, name)
		}
	})
	return testKeys[0], testKeys[1], testKeys[2]
}

func selfSigned(t testing.TB, cn string) *Credential {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &Credential{Certificate: cert, Key: key}
}

// testClaims are valid claims for "contosoapp" on 10.0.0.1, around now.
func testClaims(now time.Time) Claims {
	return Claims{
		ID:           NewTokenID(),
		Issuer:       DefaultIssuer,
		Audience:     DefaultAudience,
		NotBefore:    now.Add(-time.Minute),
		Expiry:       now.Add(time.Hour),
		IssuedAt:     now.Add(-time.Minute),
		Applications: []string{"contosoapp"},
		Addresses:    []string{"10.0.0.1", "fe80::1"},
		VMID:         "vm-1",
	}
}

func poolOf(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

func verifyOpts(roots, inters *x509.CertPool, name string) x509.VerifyOptions {
	return x509.VerifyOptions{Roots: roots, Intermediates: inters, DNSName: name, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
}
