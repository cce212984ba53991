package tool

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/seskit/ses/internal/testpki"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if err := sharedDev.Remove(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// testCredentials returns the RSA-2048 credentials the tests of the process
// share: sign, encrypt, and another one for "wrong key" cases.
func testCredentials(t testing.TB) (sign, encrypt, other *Credential) {
	t.Helper()
	return credential(testpki.Signing(t)), credential(testpki.Encryption(t)), credential(testpki.Other(t))
}

func credential(c *testpki.Cert) *Credential {
	return &Credential{Certificate: c.Certificate, Key: c.Key}
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
