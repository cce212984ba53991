package tool

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seskit/ses/internal/testpki"
	"software.sslmate.com/src/go-pkcs12"
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
	// Keys are private; the CA certificates are files of their own, the
	// keys beside them.
	for f, mode := range map[string]os.FileMode{"root.pem": 0o644, "root-key.pem": 0o600, "intermediate.pem": 0o644,
		"intermediate-key.pem": 0o600, "tls.pem": 0o600, "signing.pem": 0o600, "encryption.pem": 0o600} {
		fi, err := os.Stat(filepath.Join(s.Dir, "dev", f))
		if err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v, mode %v; want %v", f, err, fi.Mode().Perm(), mode)
		}
	}
	for _, f := range []string{"root.pem", "intermediate.pem"} {
		if data, _ := os.ReadFile(filepath.Join(s.Dir, "dev", f)); strings.Contains(string(data), "PRIVATE KEY") || !strings.Contains(string(data), "CERTIFICATE") {
			t.Errorf("%s holds more than a certificate:\n%s", f, data)
		}
	}
	if fi, err := os.Stat(s.Dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("the store was made with mode %v (%v), want 0700", fi.Mode().Perm(), err)
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

// sharedDev is a development PKI made once per test binary by the store
// code, for the tests that need one to read or damage.
var sharedDev = testpki.Store{Make: func(dir string) error {
	_, err := (&Store{Dir: dir}).Dev()
	return err
}}

// devStore returns a new store holding a copy of the shared development
// PKI.
func devStore(t *testing.T) *Store {
	t.Helper()
	s := &Store{Dir: filepath.Join(t.TempDir(), "store")}
	if err := sharedDev.CopyTo(s.Dir); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDevOldLayout checks that a PKI written with the CA keys inside
// root.pem and intermediate.pem is moved to the new layout on first use,
// every thumbprint and key unchanged.
func TestDevOldLayout(t *testing.T) {
	s := devStore(t)
	before, err := s.Dev()
	if err != nil {
		t.Fatal(err)
	}
	dev := filepath.Join(s.Dir, "dev")
	for _, name := range []string{"root", "intermediate"} {
		ca := before.Root
		if name == "intermediate" {
			ca = before.Intermediate
		}
		old, err := EncodePEM(&Credential{Certificate: ca.Certificate, Key: ca.Key})
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(filepath.Join(dev, name+"-key.pem"))
		if err := os.WriteFile(filepath.Join(dev, name+".pem"), old, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var created []string
	s.Created = func(dir string) { created = append(created, dir) }
	after, err := s.Dev()
	if err != nil {
		t.Fatal(err)
	}
	if created != nil {
		t.Errorf("migrating reported a new PKI in %v", created)
	}
	for _, pair := range [][2]*Credential{{before.Root, after.Root}, {before.Intermediate, after.Intermediate},
		{before.TLS, after.TLS}, {before.Signing, after.Signing}, {before.Encryption, after.Encryption}} {
		if pair[0].Thumbprint() != pair[1].Thumbprint() || !samePublicKey(pair[0].Key.Public(), pair[1].Key.Public()) {
			t.Errorf("%s changed in the migration", pair[0].Certificate.Subject.CommonName)
		}
	}
	for _, name := range []string{"root", "intermediate"} {
		cert, _ := os.ReadFile(filepath.Join(dev, name+".pem"))
		if strings.Contains(string(cert), "PRIVATE KEY") {
			t.Errorf("%s.pem still holds its key after the migration", name)
		}
		if fi, err := os.Stat(filepath.Join(dev, name+"-key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s-key.pem: %v, want a 0600 file", name, err)
		}
	}
	if after.Root.KeyFile != filepath.Join(dev, "root-key.pem") {
		t.Errorf("root key read from %q", after.Root.KeyFile)
	}
}

// TestDevCertificates checks the certificates-only reading of the PKI: the
// same certificates as Dev, no key read (a damaged key goes unnoticed, as
// the client needs none), and Dev's work where the PKI is missing or of the
// old layout (a missing one is Dev's too).
func TestDevCertificates(t *testing.T) {
	s := devStore(t)
	full, err := s.Dev()
	if err != nil {
		t.Fatal(err)
	}
	dev := filepath.Join(s.Dir, "dev")
	if err := os.WriteFile(filepath.Join(dev, "root-key.pem"), []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Dev(); err == nil {
		t.Fatal("Dev read a damaged root key")
	}
	certs, err := s.DevCertificates()
	if err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]*Credential{{full.Root, certs.Root}, {full.Intermediate, certs.Intermediate}, {full.TLS, certs.TLS}} {
		if pair[0].Thumbprint() != pair[1].Thumbprint() || pair[1].Key != nil || len(pair[0].Chain) != len(pair[1].Chain) {
			t.Errorf("%s: %s with key %v, want %s and no key", pair[0].File, pair[1].Thumbprint(), pair[1].Key, pair[0].Thumbprint())
		}
	}
	if certs.Signing != nil || certs.Encryption != nil || certs.Dir != dev {
		t.Errorf("certificates-only PKI %+v", certs)
	}

	// The old layout, the root's key inside root.pem: Dev moves it out.
	old, err := EncodePEM(&Credential{Certificate: full.Root.Certificate, Key: full.Root.Key})
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dev, "root-key.pem"))
	if err := os.WriteFile(filepath.Join(dev, "root.pem"), old, 0o600); err != nil {
		t.Fatal(err)
	}
	if certs, err = s.DevCertificates(); err != nil || certs.Root.Thumbprint() != full.Root.Thumbprint() {
		t.Fatalf("old layout: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dev, "root-key.pem")); err != nil {
		t.Errorf("the old layout was not migrated: %v", err)
	}
}

// TestDevHostsRace checks that processes adding TLS names at the same time
// keep every name.
func TestDevHostsRace(t *testing.T) {
	s := devStore(t)
	hosts := []string{"a.example", "b.example", "c.example", "d.example"}
	var wg sync.WaitGroup
	errs := make([]error, len(hosts))
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A store of its own, as another process would have.
			_, _, errs[i] = (&Store{Dir: s.Dir}).CreateDev([]string{h}, false)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	pki, err := s.Dev()
	if err != nil {
		t.Fatal(err)
	}
	if missing := pki.missingHosts(hosts); missing != nil {
		t.Errorf("the TLS certificate names %v; lost %v", tlsNames(pki.TLS.Certificate), missing)
	}
}

// TestDevLoadErrors checks that a PKI file that cannot be read is reported
// with its cause, and that only a missing or damaged one suggests --force,
// which would replace the PKI.
func TestDevLoadErrors(t *testing.T) {
	tests := []struct {
		name   string
		damage func(dev string) error
		want   string
		force  bool
	}{
		{"missing", func(dev string) error { return os.Remove(filepath.Join(dev, "signing.pem")) }, "signing.pem is missing", true},
		{"damaged", func(dev string) error {
			return os.WriteFile(filepath.Join(dev, "signing.pem"), []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o600)
		}, "damaged", true},
		{"no key", func(dev string) error {
			root, err := os.ReadFile(filepath.Join(dev, "root.pem"))
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dev, "signing.pem"), root, 0o600)
		}, "has no private key", true},
		{"unreadable", func(dev string) error {
			// A folder where the file should be: read fails, as for a file
			// without read permission (which root could read anyway).
			p := filepath.Join(dev, "signing.pem")
			if err := os.Remove(p); err != nil {
				return err
			}
			return os.Mkdir(p, 0o700)
		}, "is a directory", false},
	}
	if os.Geteuid() != 0 {
		tests = append(tests, struct {
			name   string
			damage func(dev string) error
			want   string
			force  bool
		}{"permission denied", func(dev string) error { return os.Chmod(filepath.Join(dev, "signing.pem"), 0) }, "permission denied", false})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := devStore(t)
			if err := tt.damage(filepath.Join(s.Dir, "dev")); err != nil {
				t.Fatal(err)
			}
			_, err := s.Dev()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			if got := strings.Contains(err.Error(), "--force"); got != tt.force {
				t.Errorf("%v: suggests --force: %v, want %v", err, got, tt.force)
			}
		})
	}
}

// TestStoreCheck checks that a store another user could change is refused.
func TestStoreCheck(t *testing.T) {
	uid := os.Getuid()
	tests := []struct {
		name    string
		setup   func(dir string) (string, error)
		uid     int
		problem StoreProblem
	}{
		{"missing", func(dir string) (string, error) { return filepath.Join(dir, "none"), nil }, uid, 0},
		{"private", func(dir string) (string, error) { p := filepath.Join(dir, "s"); return p, os.Mkdir(p, 0o700) }, uid, 0},
		{"readable by others", func(dir string) (string, error) { p := filepath.Join(dir, "s"); return p, mkdirMode(p, 0o755) }, uid, 0},
		{"world-writable", func(dir string) (string, error) { p := filepath.Join(dir, "s"); return p, mkdirMode(p, 0o777) }, uid, StoreWritable},
		{"group-writable", func(dir string) (string, error) { p := filepath.Join(dir, "s"); return p, mkdirMode(p, 0o770) }, uid, StoreWritable},
		{"another user's", func(dir string) (string, error) { p := filepath.Join(dir, "s"); return p, os.Mkdir(p, 0o700) }, uid + 1, StoreNotOwned},
		{"a symlink", func(dir string) (string, error) {
			if err := os.Mkdir(filepath.Join(dir, "real"), 0o700); err != nil {
				return "", err
			}
			p := filepath.Join(dir, "s")
			return p, os.Symlink(filepath.Join(dir, "real"), p)
		}, uid, StoreSymlink},
		{"a file", func(dir string) (string, error) { p := filepath.Join(dir, "s"); return p, os.WriteFile(p, nil, 0o600) }, uid, StoreNotFolder},
		{"dev world-writable", func(dir string) (string, error) {
			p := filepath.Join(dir, "s")
			return p, errors.Join(os.Mkdir(p, 0o700), mkdirMode(filepath.Join(p, "dev"), 0o777))
		}, uid, StoreWritable},
		{"dev a symlink", func(dir string) (string, error) {
			p := filepath.Join(dir, "s")
			return p, errors.Join(os.Mkdir(p, 0o700), os.Mkdir(filepath.Join(dir, "elsewhere"), 0o700), os.Symlink(filepath.Join(dir, "elsewhere"), filepath.Join(p, "dev")))
		}, uid, StoreSymlink},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, err := tt.setup(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			err = (&Store{Dir: dir}).check(tt.uid)
			var unsafe *UnsafeStoreError
			switch {
			case tt.problem == 0 && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.problem != 0 && (!errors.As(err, &unsafe) || unsafe.Problem != tt.problem):
				t.Fatalf("got %v, want problem %d", err, tt.problem)
			}
		})
	}
	// Every way into the store checks it.
	dir := filepath.Join(t.TempDir(), "s")
	if err := mkdirMode(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	s := &Store{Dir: dir}
	for name, f := range map[string]func() error{
		"Dev":     func() error { _, err := s.Dev(); return err },
		"Entries": func() error { _, err := s.Entries(); return err },
		"Find":    func() error { _, err := s.Find(Thumbprint{}); return err },
		"Load":    func() error { _, err := s.Load("dev", PurposeSigning); return err },
	} {
		var unsafe *UnsafeStoreError
		if err := f(); !errors.As(err, &unsafe) {
			t.Errorf("%s on a world-writable store: %v", name, err)
		}
	}
}

// mkdirMode makes a folder with exactly mode, whatever the umask.
func mkdirMode(path string, mode os.FileMode) error {
	if err := os.Mkdir(path, mode); err != nil {
		return err
	}
	return os.Chmod(path, mode)
}

// TestKeyBeside checks that a certificate file without its key takes it
// from a file beside it, by the names mkcert, openssl and step use.
func TestKeyBeside(t *testing.T) {
	full, err := LoadFile("testdata/key-first.pem", nil)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, _ := EncodePEM(&Credential{Certificate: full.Certificate})
	keyPEM, _ := EncodePEM(&Credential{Key: full.Key})
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(full.Key)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(full.Key.(*rsa.PrivateKey))})
	_, _, other := testCredentials(t)
	otherPEM, _ := EncodePEM(&Credential{Key: other.Key})
	tests := []struct {
		name    string
		files   map[string][]byte
		cert    string
		keyFile string // "" means no key
		wantErr string
	}{
		{"mkcert", map[string][]byte{"tls.pem": certPEM, "tls-key.pem": keyPEM}, "tls.pem", "tls-key.pem", ""},
		{"openssl", map[string][]byte{"server.crt": certPEM, "server.key": pkcs1}, "server.crt", "server.key", ""},
		{"DER both", map[string][]byte{"server.cer": full.Certificate.Raw, "server.key": pkcs8}, "server.cer", "server.key", ""},
		{"-key.pem first", map[string][]byte{"a.pem": certPEM, "a-key.pem": keyPEM, "a.key": otherPEM}, "a.pem", "a-key.pem", ""},
		{"alone", map[string][]byte{"a.pem": certPEM}, "a.pem", "", ""},
		{"another certificate's key", map[string][]byte{"a.pem": certPEM, "a.key": otherPEM}, "a.pem", "", "belongs to another certificate"},
		{"a certificate beside", map[string][]byte{"a.pem": certPEM, "a-key.pem": append(bytes.Clone(certPEM), keyPEM...)}, "a.pem", "", "holds certificates too"},
		{"not a key", map[string][]byte{"a.pem": certPEM, "a.key": []byte("hello")}, "a.pem", "", "not a PEM or DER private key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c, err := LoadFile(filepath.Join(dir, tt.cert), nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.keyFile == "" && c.Key != nil:
				t.Errorf("a key was found in %s", c.KeyFile)
			case tt.keyFile != "" && (c.Key == nil || c.KeyFile != filepath.Join(dir, tt.keyFile)):
				t.Errorf("key %v from %q, want the one in %s", c.Key != nil, c.KeyFile, tt.keyFile)
			}
		})
	}
	// The store lists the certificate once, with its key.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "tls.pem"), certPEM, 0o600)
	os.WriteFile(filepath.Join(dir, "tls-key.pem"), keyPEM, 0o600)
	entries, err := (&Store{Dir: dir}).Entries()
	if err != nil || len(entries) != 1 || entries[0].Err != nil || entries[0].Key == nil {
		t.Errorf("store entries %+v, %v; want tls.pem alone, with its key", entries, err)
	}
}

func TestPurposeWarnings(t *testing.T) {
	pki, err := devStore(t).Dev()
	if err != nil {
		t.Fatal(err)
	}
	plain, err := LoadFile("testdata/cert.pem", nil) // openssl req -x509: CA:TRUE, no key usage
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		c    *Credential
		p    Purpose
		host string
		want string // "" means no warning
	}{
		{"dev signing", pki.Signing, PurposeSigning, "", ""},
		{"dev encryption", pki.Encryption, PurposeEncryption, "", ""},
		{"dev TLS", pki.TLS, PurposeServerAuth, "localhost", ""},
		{"dev TLS on every address", pki.TLS, PurposeServerAuth, "0.0.0.0", ""},
		{"dev TLS by IPv6", pki.TLS, PurposeServerAuth, "::1", ""},
		{"a self-signed certificate to sign", plain, PurposeSigning, "", ""},
		{"root to sign", pki.Root, PurposeSigning, "", "CA certificate"},
		{"intermediate to encrypt", pki.Intermediate, PurposeEncryption, "", "CA certificate"},
		{"encryption to sign", pki.Encryption, PurposeSigning, "", "an encryption certificate"},
		{"signing to encrypt", pki.Signing, PurposeEncryption, "", "does not include key encipherment"},
		{"signing to serve TLS", pki.Signing, PurposeServerAuth, "", ""},
		{"dev TLS for another name", pki.TLS, PurposeServerAuth, "build.example", "does not name build.example"},
		{"root to serve TLS", pki.Root, PurposeServerAuth, "", "CA certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := strings.Join(PurposeWarnings(tt.c.Certificate, tt.p, tt.host), "; ")
			if (tt.want == "") != (w == "") || !strings.Contains(w, tt.want) {
				t.Errorf("warnings %q, want %q", w, tt.want)
			}
		})
	}
	noServerAuth := *pki.TLS.Certificate
	noServerAuth.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}
	if w := PurposeWarnings(&noServerAuth, PurposeServerAuth, "localhost"); len(w) != 1 || !strings.Contains(w[0], "no serverAuth") {
		t.Errorf("a code-signing certificate to serve TLS: %q", w)
	}
}

// TestFindAsksPasswordsLast checks that a lookup by thumbprint reads the
// files that need no password first, and asks for a PKCS#12 password only
// when they do not hold the certificate, file by file until one does.
func TestFindAsksPasswordsLast(t *testing.T) {
	sign, enc, other := testCredentials(t)
	dir := t.TempDir()
	plain, _ := EncodePEM(sign)
	os.WriteFile(filepath.Join(dir, "vendor.pem"), plain, 0o600)
	for name, c := range map[string]*Credential{"a.pfx": enc, "b.pfx": other, "c-" + other.Thumbprint().String() + ".pfx": other} {
		data, err := pkcs12.Modern.Encode(c.Key, c.Certificate, nil, "secret")
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, name), data, 0o600)
	}
	tests := []struct {
		name  string
		t     Thumbprint
		asked []string // the files a password is asked for
	}{
		{"a file without a password", sign.Thumbprint(), nil},
		{"in an encrypted file", enc.Thumbprint(), []string{"a.pfx"}},
		{"in a file named after it", other.Thumbprint(), []string{"c-" + other.Thumbprint().String() + ".pfx"}},
		{"nowhere", Thumbprint{1}, []string{"a.pfx", "b.pfx", "c-" + other.Thumbprint().String() + ".pfx"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked []string
			s := &Store{Dir: dir, Password: func(f string) ([]byte, error) {
				asked = append(asked, filepath.Base(f))
				return []byte("secret"), nil
			}}
			c, err := s.Find(tt.t)
			if tt.t == (Thumbprint{1}) {
				var nf *NotFoundError
				if !errors.As(err, &nf) {
					t.Errorf("got %v, want NotFoundError", err)
				}
			} else if err != nil || c.Thumbprint() != tt.t || c.Key == nil {
				t.Fatalf("found %v, %v", c, err)
			}
			if strings.Join(asked, " ") != strings.Join(tt.asked, " ") {
				t.Errorf("asked for the passwords of %q, want %q", asked, tt.asked)
			}
		})
	}
}

func FuzzParseKeyFile(f *testing.F) {
	for _, name := range []string{"ec.pem", "cert.cer"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		key, err := parseKeyFile(data)
		if (err == nil) != (key != nil) {
			t.Fatalf("parseKeyFile returned key %v and error %v", key, err)
		}
		// A file of certificates and a key: the key is one of theirs.
		if c, err := parsePEM(data); err == nil && c.Key != nil && !samePublicKey(c.Certificate.PublicKey, c.Key.Public()) {
			t.Fatalf("parsePEM paired a key with a certificate it does not belong to")
		}
	})
}
