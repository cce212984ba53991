package tool

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
	// oldLayout is a PKI whose CA keys are still inside the certificate
	// files.
	oldLayout bool
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

// The PKI's files inside its folder. The CA certificates are files of their
// own, for trust stores and `curl --cacert`; their keys are beside them, as
// mkcert keeps them (KeyFilesBeside). The leaves hold their keys.
const (
	DevRootFile         = "root.pem"
	devIntermediateFile = "intermediate.pem"
	devTLSFile          = "tls.pem"
	devSigningFile      = "signing.pem"
	devEncryptionFile   = "encryption.pem"
	devLockFile         = ".dev.lock"
)

// lockWait bounds how long a process waits for another to finish changing
// the development PKI: issuing a key takes well under a second.
const lockWait = 2 * time.Minute

func (s *Store) devDir() string { return filepath.Join(s.Dir, "dev") }

// HasDev reports whether the development PKI exists, without making it.
func (s *Store) HasDev() bool {
	_, err := os.Stat(s.devDir())
	return err == nil
}

// Dev returns the development PKI, creating it on first need; Created, when
// set, hears of a PKI made here.
func (s *Store) Dev() (*DevPKI, error) {
	pki, created, err := s.CreateDev(nil, false)
	if created && s.Created != nil {
		s.Created(pki.Dir)
	}
	return pki, err
}

// DevCertificates returns the root, intermediate and TLS certificates of
// the development PKI, without reading a key: for a client that only
// trusts them (ses client --dev), since parsing the five RSA keys is most
// of the time it takes to read the PKI. The credentials it returns have no
// keys, and Signing and Encryption are nil. A PKI that is missing or of the
// old layout, or a file that does not read, is left to Dev, which makes or
// mends it, or says what is wrong.
func (s *Store) DevCertificates() (*DevPKI, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	pki := &DevPKI{Dir: s.devDir()}
	for _, f := range []struct {
		name string
		dst  **Credential
		ca   bool // its key is in a file beside it
	}{
		{DevRootFile, &pki.Root, true}, {devIntermediateFile, &pki.Intermediate, true}, {devTLSFile, &pki.TLS, false},
	} {
		path := filepath.Join(pki.Dir, f.name)
		c, hasKey, err := readCertificates(path)
		if err == nil && f.ca {
			_, err = os.Stat(KeyFilesBeside(path)[0])
		}
		if err != nil || hasKey == f.ca {
			return s.Dev()
		}
		*f.dst = c
	}
	return pki, nil
}

// readCertificates reads the certificates of a PEM file as ses writes it
// (EncodePEM: the leaf first, then its chain) without parsing its key, and
// reports whether it holds one.
func readCertificates(path string) (c *Credential, hasKey bool, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false, err
	}
	c = &Credential{File: path}
	for {
		var block *pem.Block
		if block, data = pem.Decode(data); block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			hasKey = hasKey || strings.Contains(block.Type, "PRIVATE KEY")
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		if c.Certificate == nil {
			c.Certificate = cert
		} else {
			c.Chain = append(c.Chain, cert)
		}
	}
	if c.Certificate == nil {
		return nil, false, fmt.Errorf("%s: no certificate in the PEM file", path)
	}
	return c, hasKey, nil
}

// CreateDev makes the development PKI if it is missing, or replaces it with
// force, and reports whether it made a new one. Extra TLS host names that
// the current TLS certificate lacks get it re-issued under the same
// intermediate. A PKI whose CA keys are still inside root.pem and
// intermediate.pem (as ses wrote it before) has them moved to files of
// their own, the certificates unchanged. Processes that change the PKI at
// the same time take turns (a lock file in the store), so each one's names
// are kept; one that only reads it does not wait.
func (s *Store) CreateDev(hosts []string, force bool) (*DevPKI, bool, error) {
	if err := s.Check(); err != nil {
		return nil, false, err
	}
	if !force {
		pki, err := s.loadDev()
		if err == nil && !pki.oldLayout && pki.missingHosts(hosts) == nil {
			return pki, false, nil
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, false, err
		}
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("creating the store: %w", err)
	}
	if err := s.Check(); err != nil { // it may have been there already
		return nil, false, err
	}
	unlock, err := s.lock()
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	return s.changeDev(hosts, force)
}

// lock waits for the store's lock, for at most lockWait.
func (s *Store) lock() (unlock func(), err error) {
	path := filepath.Join(s.Dir, devLockFile)
	deadline := time.Now().Add(lockWait)
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 250*time.Millisecond) {
		release, held, err := tryLock(path)
		switch {
		case err != nil:
			return nil, fmt.Errorf("locking the development PKI: %w", err)
		case held:
			return release, nil
		case time.Now().After(deadline):
			return nil, fmt.Errorf("the development PKI in %s is being changed by another process (it holds %s)", s.devDir(), path)
		}
		time.Sleep(wait)
	}
}

// changeDev does CreateDev's work under the lock.
func (s *Store) changeDev(hosts []string, force bool) (*DevPKI, bool, error) {
	pki, err := s.loadDev()
	created := false
	switch {
	case force || errors.Is(err, fs.ErrNotExist):
		if err := s.replaceDev(hosts, force); err != nil {
			return nil, false, err
		}
		if pki, err = s.loadDev(); err != nil {
			return nil, false, err
		}
		created = true
	case err != nil:
		return nil, false, err
	case pki.oldLayout:
		if err := pki.migrate(); err != nil {
			return nil, false, err
		}
	}
	return pki, created, s.addHosts(pki, hosts)
}

// replaceDev builds a new PKI in a folder of its own and renames it into
// place, so that no reader sees half of one; with force the old one is
// moved aside first.
func (s *Store) replaceDev(hosts []string, force bool) error {
	tmp, err := os.MkdirTemp(s.Dir, ".dev-new-")
	if err != nil {
		return fmt.Errorf("creating the development PKI: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := writeDevPKI(tmp, append(slices.Clone(DevHosts), hosts...)); err != nil {
		return err
	}
	if force {
		old, err := os.MkdirTemp(s.Dir, ".dev-old-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(old)
		if err := os.Rename(s.devDir(), filepath.Join(old, "dev")); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("replacing the development PKI: %w", err)
		}
	}
	if err := os.Rename(tmp, s.devDir()); err != nil {
		return fmt.Errorf("creating the development PKI: %w", err)
	}
	return nil
}

// loadDev reads the PKI. A missing folder is fs.ErrNotExist; a missing or
// damaged file says so with the way out (--force); a file that cannot be
// read is reported with its cause, since replacing the PKI would not help.
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
		{DevRootFile, &pki.Root}, {devIntermediateFile, &pki.Intermediate}, {devTLSFile, &pki.TLS},
		{devSigningFile, &pki.Signing}, {devEncryptionFile, &pki.Encryption},
	} {
		c, err := LoadFile(filepath.Join(dir, f.name), nil)
		var pathErr *fs.PathError
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("the development PKI in %s is incomplete (%s is missing): replace it with `ses certs create --force`", dir, f.name)
		case errors.As(err, &pathErr):
			return nil, fmt.Errorf("reading the development PKI: %w", err)
		case err != nil:
			return nil, fmt.Errorf("the development PKI in %s is damaged (%v): replace it with `ses certs create --force`", dir, err)
		case c.Key == nil:
			return nil, fmt.Errorf("the development PKI in %s is incomplete (%s has no private key): replace it with `ses certs create --force`", dir, f.name)
		}
		*f.dst = c
	}
	pki.oldLayout = pki.Root.KeyFile == "" || pki.Intermediate.KeyFile == ""
	return pki, nil
}

// migrate moves the CA keys out of the certificate files: each key is
// written to its own file before its certificate is rewritten alone, so a
// reader finds the key in one place or the other.
func (p *DevPKI) migrate() error {
	for _, ca := range []*Credential{p.Root, p.Intermediate} {
		if ca.KeyFile != "" {
			continue
		}
		keyFile := KeyFilesBeside(ca.File)[0]
		if err := writeCA(ca.File, keyFile, ca); err != nil {
			return fmt.Errorf("moving the key of %s to %s: %w", ca.File, keyFile, err)
		}
		ca.KeyFile = keyFile
	}
	p.oldLayout = false
	return nil
}

// missingHosts lists the hosts the TLS certificate does not name.
func (p *DevPKI) missingHosts(hosts []string) []string {
	have := tlsNames(p.TLS.Certificate)
	var missing []string
	for _, h := range hosts {
		if !slices.Contains(have, h) && !slices.Contains(missing, h) {
			missing = append(missing, h)
		}
	}
	return missing
}

// addHosts re-issues the TLS certificate when hosts names one it lacks.
func (s *Store) addHosts(pki *DevPKI, hosts []string) error {
	missing := pki.missingHosts(hosts)
	if missing == nil {
		return nil
	}
	all := append(tlsNames(pki.TLS.Certificate), missing...)
	tls, err := issue(devTemplate("ses development TLS", x509.KeyUsageDigitalSignature, all), pki.Intermediate)
	if err != nil {
		return err
	}
	tls.Chain = []*x509.Certificate{pki.Intermediate.Certificate}
	if err := writeCredential(filepath.Join(pki.Dir, devTLSFile), tls); err != nil {
		return err
	}
	tls.File = filepath.Join(pki.Dir, devTLSFile)
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
	for name, c := range map[string]*Credential{DevRootFile: root, devIntermediateFile: inter} {
		path := filepath.Join(dir, name)
		if err := writeCA(path, KeyFilesBeside(path)[0], c); err != nil {
			return err
		}
	}
	for name, c := range map[string]*Credential{devTLSFile: tls, devSigningFile: sign, devEncryptionFile: enc} {
		if err := writeCredential(filepath.Join(dir, name), c); err != nil {
			return err
		}
	}
	return nil
}

// writeCredential writes a certificate, its chain and its key to one file,
// 0600.
func writeCredential(path string, c *Credential) error {
	data, err := EncodePEM(c)
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, data, 0o600)
}

// writeCA writes a CA's key to keyFile (0600) and then its certificate
// alone to certFile (0644: it is public, and what trust stores take).
func writeCA(certFile, keyFile string, c *Credential) error {
	key, err := EncodePEM(&Credential{Key: c.Key})
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(keyFile, key, 0o600); err != nil {
		return err
	}
	cert, err := EncodePEM(&Credential{Certificate: c.Certificate})
	if err != nil {
		return err
	}
	return WriteFileAtomic(certFile, cert, 0o644)
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
// with a file. An error names path, never the temporary file.
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
		return writeError(path, err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return writeError(path, err)
	}
	return nil
}

// writeError is err, which may name the temporary file, as an error
// writing path.
func writeError(path string, err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	}
	return &fs.PathError{Op: "write", Path: path, Err: err}
}
