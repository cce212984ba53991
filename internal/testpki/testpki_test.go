package testpki

import (
	"crypto/rsa"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSharedCA(t *testing.T) {
	ca := SharedCA(t)
	if SharedCA(t) != ca {
		t.Error("a second SharedCA made another CA")
	}
	roots, inters := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(ca.Root.Certificate)
	inters.AddCert(ca.Intermediate.Certificate)
	opts := x509.VerifyOptions{Roots: roots, Intermediates: inters, DNSName: "a.example", KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}

	leaf := ca.Leaf(t, "leaf", "a.example", time.Now().Add(time.Hour))
	chains, err := leaf.Certificate.Verify(opts)
	if err != nil || len(chains[0]) != 3 {
		t.Fatalf("the leaf does not chain through the intermediate to the root: %v", err)
	}
	if _, err := ca.Leaf(t, "old", "a.example", time.Now().Add(-time.Hour)).Certificate.Verify(opts); err == nil {
		t.Error("an expired leaf verified")
	}
	if _, err := SelfSignedLeaf(t, "self", "a.example", time.Now().Add(time.Hour)).Certificate.Verify(opts); err == nil {
		t.Error("a self-signed leaf verified under the CA")
	}
	other := NewCA(t)
	if other.Root.Certificate.Equal(ca.Root.Certificate) {
		t.Fatal("NewCA returned the shared CA")
	}
	opts.Intermediates.AddCert(other.Intermediate.Certificate)
	if _, err := other.Leaf(t, "leaf", "a.example", time.Now().Add(time.Hour)).Certificate.Verify(opts); err == nil {
		t.Error("a leaf of another CA verified under the shared root")
	}
}

func TestRSA(t *testing.T) {
	certs := []*Cert{Signing(t), Encryption(t), Other(t)}
	for i, c := range certs {
		key, ok := c.Key.(*rsa.PrivateKey)
		if !ok || key.N.BitLen() != 2048 || !key.PublicKey.Equal(c.Certificate.PublicKey) {
			t.Errorf("certificate %d: key %T, want the certificate's RSA-2048 key", i, c.Key)
		}
		for _, d := range certs[:i] {
			if d.Certificate.Equal(c.Certificate) {
				t.Errorf("certificate %d is another one's", i)
			}
		}
	}
	if Signing(t) != certs[0] {
		t.Error("a second Signing made another key")
	}
}

func TestStore(t *testing.T) {
	made := 0
	s := &Store{Make: func(dir string) error {
		made++
		if err := os.Mkdir(filepath.Join(dir, "dev"), 0o700); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, "dev", "key.pem"), []byte("secret"), 0o600)
	}}
	t.Cleanup(func() { s.Remove() })
	for range 2 {
		dst := t.TempDir()
		if err := s.CopyTo(dst); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(dst, "dev", "key.pem"))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("copied key: %v, want mode 0600", err)
		}
		if data, _ := os.ReadFile(filepath.Join(dst, "dev", "key.pem")); string(data) != "secret" {
			t.Errorf("copied key holds %q", data)
		}
		if fi, err := os.Stat(filepath.Join(dst, "dev")); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("copied folder: %v, want mode 0700", err)
		}
	}
	if made != 1 {
		t.Errorf("Make ran %d times for two copies, want once", made)
	}
	if err := s.Remove(); err != nil {
		t.Fatal(err)
	}
	if err := s.CopyTo(t.TempDir()); err != nil || made != 2 {
		t.Errorf("after Remove: %v, Make ran %d times, want twice", err, made)
	}
}
