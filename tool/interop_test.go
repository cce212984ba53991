package tool

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"
)

// fixtureCredential reads a certificate and its PKCS#8 key from one PEM file
// of testdata/interop, without the store, so this test depends only on Open.
func fixtureCredential(t *testing.T, name string) *Credential {
	t.Helper()
	data, err := os.ReadFile("../testdata/interop/" + name + ".pem")
	if err != nil {
		t.Fatal(err)
	}
	c := &Credential{}
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		switch block.Type {
		case "CERTIFICATE":
			if c.Certificate, err = x509.ParseCertificate(block.Bytes); err != nil {
				t.Fatal(err)
			}
		case "PRIVATE KEY":
			key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			c.Key = key.(crypto.Signer)
		}
	}
	return c
}

// TestOpenJoseTokens opens tokens made by the npm package jose.
func TestOpenJoseTokens(t *testing.T) {
	sign, enc := fixtureCredential(t, "sign"), fixtureCredential(t, "enc")
	v := &Verifier{Sign: sign.Certificate, Decrypt: enc}
	at := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		file string
		app  string
		ip   string
		apps int
	}{
		{"jose-token.txt", "contosoapp", "10.0.0.4", 1},
		{"jose-token-many.txt", "Fabrikam", "2001:db8::4", 2},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile("../testdata/interop/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := v.Open(strings.TrimSpace(string(raw)))
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if err := tok.Check(Request{Now: at, Application: tt.app, Address: netip.MustParseAddr(tt.ip)}); err != nil {
				t.Fatalf("Check: %v", err)
			}
			if len(tok.Claims.Applications) != tt.apps || !tok.Encrypted || !tok.Signed {
				t.Errorf("token %+v", tok)
			}
			if err := tok.Check(Request{Now: at.Add(8 * 24 * time.Hour)}); !IsReason(err, ReasonExpired) {
				t.Errorf("a week later: %v, want expired", err)
			}
			for part := range 5 {
				if _, err := v.Open(tamper(strings.TrimSpace(string(raw)), part)); err == nil {
					t.Errorf("tampering with part %d went unnoticed", part)
				}
			}
		})
	}
}
