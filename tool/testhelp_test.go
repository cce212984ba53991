package tool

import (
	"crypto/x509"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/seskit/ses/internal/testpki"
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
	cert, key := testpki.SelfSigned(t, cn)
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

// IsReason reports whether err is a *CheckError with the given reason.
func IsReason(err error, reason Reason) bool {
	var e *CheckError
	return errors.As(err, &e) && e.Reason == reason
}
