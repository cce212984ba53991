package tool

import (
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const fixtureThumbprint = "8574098A15E48577F924D4110243305803FF873F"

func password(pw string) func(string) ([]byte, error) {
	return func(string) ([]byte, error) { return []byte(pw), nil }
}

func TestLoadFile(t *testing.T) {
	tests := []struct {
		file    string
		pw      func(string) ([]byte, error)
		key     bool
		thumb   string
		wantErr string
	}{
		{file: "cert-first.pem", key: true, thumb: fixtureThumbprint},
		{file: "key-first.pem", key: true, thumb: fixtureThumbprint},
		{file: "pkcs1.pem", key: true, thumb: fixtureThumbprint},
		{file: "cert.pem", thumb: fixtureThumbprint},
		{file: "cert.cer", thumb: fixtureThumbprint},
		{file: "modern.pfx", pw: password("secret"), key: true, thumb: fixtureThumbprint},
		{file: "legacy-3des.pfx", pw: password("secret"), key: true, thumb: fixtureThumbprint},
		{file: "legacy-rc2.pfx", pw: password("secret"), key: true, thumb: fixtureThumbprint},
		{file: "nopass.pfx", key: true, thumb: fixtureThumbprint},
		{file: "ec.pem", key: true},
		{file: "modern.pfx", pw: password("wrong"), wantErr: "wrong password"},
		{file: "modern.pfx", wantErr: "password"},
		{file: "README", wantErr: "not a PEM, DER or PKCS#12"},
		{file: "missing.pem", wantErr: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			c, err := LoadFile(filepath.Join("testdata", tt.file), tt.pw)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (c.Key != nil) != tt.key {
				t.Errorf("key present %v, want %v", c.Key != nil, tt.key)
			}
			if tt.thumb != "" && c.Thumbprint().String() != tt.thumb {
				t.Errorf("thumbprint %s, want %s", c.Thumbprint(), tt.thumb)
			}
		})
	}
}

func TestParseThumbprint(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string
	}{
		{in: fixtureThumbprint},
		{in: strings.ToLower(fixtureThumbprint)},
		{in: "85 74 09 8a 15 e4 85 77 f9 24 d4 11 02 43 30 58 03 ff 87 3f"},
		{in: "85:74:09:8A:15:E4:85:77:F9:24:D4:11:02:43:30:58:03:FF:87:3F"},
		{in: "\u200e85 74 09 8a 15 e4 85 77 f9 24 d4 11 02 43 30 58 03 ff 87 3f"},
		{in: fixtureThumbprint[:38], wantErr: "has 38 hex digits, want 40"},
		{in: fixtureThumbprint + "00", wantErr: "has 42 hex digits"},
		{in: "8574098A15E48577F924D4110243305803FF873G", wantErr: `'G' at position 39 is not a hex digit`},
		{in: "", wantErr: "has 0 hex digits"},
	}
	for _, tt := range tests {
		got, err := ParseThumbprint(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseThumbprint(%q) = %v, %v; want error %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got.String() != fixtureThumbprint {
			t.Errorf("ParseThumbprint(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func FuzzParseThumbprint(f *testing.F) {
	f.Add(fixtureThumbprint)
	f.Add("85 74 09 8a")
	f.Add("85:74:zz")
	f.Fuzz(func(t *testing.T, s string) {
		tp, err := ParseThumbprint(s)
		if err != nil {
			return
		}
		// Whatever was accepted round-trips through its canonical form.
		back, err := ParseThumbprint(tp.String())
		if err != nil || back != tp {
			t.Fatalf("%q -> %s -> %v, %v", s, tp, back, err)
		}
	})
}

func TestStoreLoad(t *testing.T) {
	dir := t.TempDir()
	data, _ := os.ReadFile("testdata/cert-first.pem")
	os.WriteFile(filepath.Join(dir, "vendor.pem"), data, 0o600)
	s := &Store{Dir: dir}

	c, err := s.Load("85:74:09:8a:15:e4:85:77:f9:24:d4:11:02:43:30:58:03:ff:87:3f", PurposeSigning)
	if err != nil || c.Thumbprint().String() != fixtureThumbprint || c.Key == nil {
		t.Fatalf("by thumbprint: %v, %v", c, err)
	}
	if c, err := s.Load("none", PurposeSigning); c != nil || err != nil {
		t.Errorf("none: %v, %v; want nothing", c, err)
	}
	if c, err := s.Load("testdata/cert.cer", PurposeSigning); err != nil || c.Key != nil {
		t.Errorf("by file: %v, %v", c, err)
	}
	_, err = s.Load(strings.Repeat("ab", 20), PurposeSigning)
	var nf *NotFoundError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), dir) {
		t.Errorf("unknown thumbprint: %v, want a NotFoundError naming the store", err)
	}
	if _, err := s.Load("abcdef0123456789abcdefXX", PurposeSigning); err == nil {
		t.Error("a malformed thumbprint that is no file was accepted")
	}
}

func TestDevPKI(t *testing.T) {
	s := &Store{Dir: filepath.Join(t.TempDir(), "store")}
	// Racing creators end with one PKI.
	var wg sync.WaitGroup
	pkis := make([]*DevPKI, 4)
	errs := make([]error, 4)
	for i := range pkis {
		wg.Add(1)
		go func() { defer wg.Done(); pkis[i], errs[i] = s.Dev() }()
	}
	wg.Wait()
	for i := range pkis {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if pkis[i].Root.Thumbprint() != pkis[0].Root.Thumbprint() || pkis[i].TLS.Thumbprint() != pkis[0].TLS.Thumbprint() {
			t.Fatalf("racing Dev() calls returned different PKIs")
		}
	}
	pki := pkis[0]
	leftovers, _ := filepath.Glob(filepath.Join(s.Dir, ".dev-*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary folders left behind: %v", leftovers)
	}

	// The TLS leaf chains through the intermediate to the root.
	roots, inters := poolOf(pki.Root.Certificate), poolOf(pki.Intermediate.Certificate)
	for _, name := range DevHosts {
		if _, err := pki.TLS.Certificate.Verify(verifyOpts(roots, inters, name)); err != nil {
			t.Errorf("TLS certificate for %s: %v", name, err)
		}
	}
	if len(pki.TLS.Chain) != 1 || pki.TLS.Chain[0].Equal(pki.Intermediate.Certificate) == false {
		t.Error("the TLS credential does not carry the intermediate")
	}
	// Keys are private.
	for _, f := range []string{"root.pem", "intermediate.pem", "tls.pem", "signing.pem", "encryption.pem"} {
		fi, err := os.Stat(filepath.Join(s.Dir, "dev", f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", f, err, fi.Mode().Perm())
		}
	}
	// dev resolves by purpose, and the dev certificates are found by thumbprint.
	for p, want := range map[Purpose]*Credential{PurposeSigning: pki.Signing, PurposeEncryption: pki.Encryption, PurposeServerAuth: pki.TLS} {
		c, err := s.Load("dev", p)
		if err != nil || c.Thumbprint() != want.Thumbprint() {
			t.Errorf("dev for %d: %v, %v", p, c, err)
		}
		if c, err := s.Load(want.Thumbprint().String(), p); err != nil || c.Key == nil {
			t.Errorf("by thumbprint %s: %v, %v", want.Thumbprint(), c, err)
		}
	}

	// Idempotent; a new host re-issues only the TLS leaf; force replaces all.
	again, created, err := s.CreateDev(nil, false)
	if err != nil || created || again.Root.Thumbprint() != pki.Root.Thumbprint() {
		t.Fatalf("second create: created=%v err=%v", created, err)
	}
	more, _, err := s.CreateDev([]string{"build.example"}, false)
	if err != nil || more.Root.Thumbprint() != pki.Root.Thumbprint() || more.TLS.Thumbprint() == pki.TLS.Thumbprint() {
		t.Fatalf("--host: err=%v, want the same root and a new TLS leaf", err)
	}
	if _, err := more.TLS.Certificate.Verify(verifyOpts(roots, inters, "build.example")); err != nil {
		t.Errorf("re-issued TLS leaf: %v", err)
	}
	fresh, created, err := s.CreateDev(nil, true)
	if err != nil || !created || fresh.Root.Thumbprint() == pki.Root.Thumbprint() {
		t.Fatalf("--force: created=%v err=%v, want a new root", created, err)
	}
}

// TestDevTemplateValidity checks that the development TLS leaf is valid for
// 825 days in all, the back-dated hour included: clients that cap server
// certificates at 825 days refuse a longer one.
func TestDevTemplateValidity(t *testing.T) {
	tls := devTemplate("tls", x509.KeyUsageDigitalSignature, []string{"localhost"})
	if got := tls.NotAfter.Sub(tls.NotBefore); got != 825*24*time.Hour {
		t.Errorf("the TLS leaf is valid for %v, want 825 days", got)
	}
	if !tls.NotBefore.Before(time.Now()) {
		t.Error("the TLS leaf is not back-dated")
	}
}
