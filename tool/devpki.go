package tool

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// DevPKI is the development PKI: a root, an intermediate, and the leaves
// issued under the intermediate, so that pinning an intermediate works as
// it does against Azure.
type DevPKI struct {
	Root, Intermediate *Credential
	// TLS is the server certificate, its Chain the intermediate.
	TLS        *Credential
	Signing    *Credential
	Encryption *Credential
	// Dir is the folder the PKI lives in.
	Dir string
}

// For returns the development certificate for a purpose.
func (p *DevPKI) For(purpose Purpose) *Credential {
	switch purpose {
	case PurposeSigning:
		return p.Signing
	case PurposeEncryption:
		return p.Encryption
	default:
		return p.TLS
	}
}

// DevHosts are the names the development TLS certificate always covers.
var DevHosts = []string{"localhost", "127.0.0.1", "::1"}

// devFiles names the PKI's files inside its folder.
var devFiles = struct{ root, intermediate, tls, signing, encryption string }{
	"root.pem", "intermediate.pem", "tls.pem", "signing.pem", "encryption.pem",
}

func (s *Store) devDir() string { return filepath.Join(s.Dir, "dev") }

// HasDev reports whether the development PKI exists, without making it.
func (s *Store) HasDev() bool {
	_, err := os.Stat(s.devDir())
	return err == nil
}

// Dev returns the development PKI, creating it on first need.
func (s *Store) Dev() (*DevPKI, error) {
	pki, _, err := s.CreateDev(nil, false)
	return pki, err
}

// CreateDev makes the development PKI if it is missing, or replaces it with
// force, and reports whether it made a new one. Extra TLS host names that
// the current TLS certificate lacks get it re-issued under the same
// intermediate. Two processes racing to create it end up with the same one:
// each builds it in a folder of its own and renames it into place, and the
// loser loads the winner's.
func (s *Store) CreateDev(hosts []string, force bool) (*DevPKI, bool, error) {
	if !force {
		pki, err := s.loadDev()
		if err == nil {
			return pki, false, s.addHosts(pki, hosts)
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, false, err
		}
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("creating the store: %w", err)
	}
	tmp, err := os.MkdirTemp(s.Dir, ".dev-new-")
	if err != nil {
		return nil, false, fmt.Errorf("creating the development PKI: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := writeDevPKI(tmp, append(slices.Clone(DevHosts), hosts...)); err != nil {
		return nil, false, err
	}
	if force {
		old, err := os.MkdirTemp(s.Dir, ".dev-old-")
		if err != nil {
			return nil, false, err
		}
		defer os.RemoveAll(old)
		if err := os.Rename(s.devDir(), filepath.Join(old, "dev")); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, false, fmt.Errorf("replacing the development PKI: %w", err)
		}
	}
	created := os.Rename(tmp, s.devDir()) == nil
	pki, err := s.loadDev()
	if err != nil {
		return nil, false, err
	}
	return pki, created, s.addHosts(pki, hosts)
}

func (s *Store) loadDev() (*DevPKI, error) {
	dir := s.devDir()
	if _, err := os.Stat(dir); err != nil {
		return nil, err
	}
	pki := &DevPKI{Dir: dir}
	for _, f := range []struct {
		name string
		dst  **Credential
	}{
		{devFiles.root, &pki.Root}, {devFiles.intermediate, &pki.Intermediate}, {devFiles.tls, &pki.TLS},
		{devFiles.signing, &pki.Signing}, {devFiles.encryption, &pki.Encryption},
	} {
		c, err := LoadFile(filepath.Join(dir, f.name), nil)
		if err != nil || c.Key == nil {
			return nil, fmt.Errorf("the development PKI in %s is incomplete (%s): replace it with `ses certs create --force`", dir, f.name)
		}
		*f.dst = c
	}
	return pki, nil
}

// addHosts re-issues the TLS certificate when hosts names one it lacks.
func (s *Store) addHosts(pki *DevPKI, hosts []string) error {
	have := tlsNames(pki.TLS.Certificate)
	all := slices.Clone(have)
	for _, h := range hosts {
		if !slices.Contains(all, h) {
			all = append(all, h)
		}
	}
	if len(all) == len(have) {
		return nil
	}
	tls, err := issue(devTemplate("ses development TLS", x509.KeyUsageDigitalSignature, all), pki.Intermediate)
	if err != nil {
		return err
	}
	tls.Chain = []*x509.Certificate{pki.Intermediate.Certificate}
	if err := writeCredential(filepath.Join(pki.Dir, devFiles.tls), tls); err != nil {
		return err
	}
	pki.TLS = tls
	return nil
}

func tlsNames(c *x509.Certificate) []string {
	names := slices.Clone(c.DNSNames)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	return names
}

func writeDevPKI(dir string, hosts []string) error {
	root, err := issue(caTemplate("ses development root CA", 1), nil)
	if err != nil {
		return err
	}
	inter, err := issue(caTemplate("ses development intermediate CA", 0), root)
	if err != nil {
		return err
	}
	tls, err := issue(devTemplate("ses development TLS", x509.KeyUsageDigitalSignature, hosts), inter)
	if err != nil {
		return err
	}
	tls.Chain = []*x509.Certificate{inter.Certificate}
	sign, err := issue(devTemplate("ses development token signing", x509.KeyUsageDigitalSignature, nil), inter)
	if err != nil {
		return err
	}
	enc, err := issue(devTemplate("ses development token encryption", x509.KeyUsageKeyEncipherment|x509.KeyUsageDataEncipherment, nil), inter)
	if err != nil {
		return err
	}
	for name, c := range map[string]*Credential{
		devFiles.root: root, devFiles.intermediate: inter, devFiles.tls: tls,
		devFiles.signing: sign, devFiles.encryption: enc,
	} {
		if err := writeCredential(filepath.Join(dir, name), c); err != nil {
			return err
		}
	}
	return nil
}

func writeCredential(path string, c *Credential) error {
	data, err := EncodePEM(c)
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, data, 0o600)
}

func caTemplate(cn string, maxPath int) *x509.Certificate {
	return &x509.Certificate{
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"ses development"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            maxPath,
		MaxPathLenZero:        maxPath == 0,
	}
}

// devTLSValidity is the development TLS leaf's validity, back-dating
// included: the longest that clients capping server certificates accept.
const devTLSValidity = 825 * 24 * time.Hour

// devTemplate makes a leaf template; hosts, when given, make it a TLS server
// certificate for those names and addresses.
func devTemplate(cn string, usage x509.KeyUsage, hosts []string) *x509.Certificate {
	notBefore := time.Now().Add(-time.Hour) // a little clock skew is no failure
	t := &x509.Certificate{
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"ses development"}},
		NotBefore:             notBefore,
		NotAfter:              notBefore.AddDate(5, 0, 0),
		KeyUsage:              usage,
		BasicConstraintsValid: true,
	}
	if hosts != nil {
		// Clients that cap server certificates at 825 days refuse longer
		// ones; the back-dating counts.
		t.NotAfter = notBefore.Add(devTLSValidity)
		t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		for _, h := range hosts {
			if ip := net.ParseIP(h); ip != nil {
				t.IPAddresses = append(t.IPAddresses, ip)
			} else {
				t.DNSNames = append(t.DNSNames, h)
			}
		}
	}
	return t
}

// issue makes a new RSA-2048 key and a certificate for it from tmpl, signed
// by parent, or self-signed when parent is nil.
func issue(tmpl *x509.Certificate, parent *Credential) (*Credential, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	parentCert, parentKey := tmpl, any(key)
	if parent != nil {
		parentCert, parentKey = parent.Certificate, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parentCert, &key.PublicKey, parentKey)
	if err != nil {
		return nil, fmt.Errorf("issuing %q: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Credential{Certificate: cert, Key: key}, nil
}

// WriteFileAtomic writes data to path through a temporary file in the same
// folder and a rename, so a reader never sees half of it. A path that names
// something other than a regular file (/dev/stdout, /dev/null, a pipe) is
// written in place: renaming over it would replace the device or pipe
// with a file.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		if fi.IsDir() {
			return fmt.Errorf("%s is a folder", path)
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
