package tool

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Purpose says what a certificate is wanted for: it picks the development
// certificate that "dev" stands for.
type Purpose int

// The purposes a CERT argument can serve.
const (
	PurposeSigning Purpose = iota + 1
	PurposeEncryption
	PurposeServerAuth
)

// Store is a directory of certificates and keys, found by thumbprint, and the
// home of the development PKI (in its "dev" folder).
type Store struct {
	// Dir is the store's directory.
	Dir string
	// Password supplies the password of an encrypted PKCS#12 file; nil
	// means such files cannot be read.
	Password func(file string) ([]byte, error)
	// Created, when set, is called with the folder of a development PKI
	// that Dev has just made, for telling the user where it is.
	Created func(dir string)
}

// StoreProblem is why a store folder is refused.
type StoreProblem int

// The problems Store.Check finds.
const (
	// StoreSymlink is a store or dev folder that is a symbolic link.
	StoreSymlink StoreProblem = iota + 1
	// StoreNotOwned is a folder owned by another user.
	StoreNotOwned
	// StoreWritable is a folder that group or others may write in.
	StoreWritable
	// StoreNotFolder is a store path that is not a folder.
	StoreNotFolder
)

// UnsafeStoreError reports a store, or its dev folder, that another user
// could change: whoever can swap the development PKI receives the tokens
// made with it.
type UnsafeStoreError struct {
	// Dir is the folder refused.
	Dir     string
	Problem StoreProblem
	// Detail says what was found, e.g. "is owned by uid 1001, not by you
	// (uid 0)".
	Detail string
}

func (e *UnsafeStoreError) Error() string {
	return fmt.Sprintf("refusing the certificate store folder %s: it %s", e.Dir, e.Detail)
}

// Check refuses a store whose folder, or dev folder, is a symbolic link,
// is owned by another user, or may be written by group or others
// (*UnsafeStoreError). A folder that does not exist yet is no problem: the
// store makes its folders 0700. Every method that reads the store checks
// it first.
func (s *Store) Check() error { return s.check(os.Getuid()) }

func (s *Store) check(uid int) error {
	for _, dir := range []string{s.Dir, s.devDir()} {
		fi, err := os.Lstat(dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil // nothing inside a missing folder either
		case err != nil:
			return fmt.Errorf("the certificate store: %w", err)
		case fi.Mode()&fs.ModeSymlink != 0:
			return &UnsafeStoreError{Dir: dir, Problem: StoreSymlink, Detail: "is a symbolic link"}
		case !fi.IsDir():
			return &UnsafeStoreError{Dir: dir, Problem: StoreNotFolder, Detail: "is not a folder"}
		}
		if p, detail := permissionProblem(fi, uid); p != 0 {
			return &UnsafeStoreError{Dir: dir, Problem: p, Detail: detail}
		}
	}
	return nil
}

// NotFoundError reports a thumbprint that no certificate in the store has.
type NotFoundError struct {
	Thumbprint Thumbprint
	Dir        string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no certificate with thumbprint %s in the store %s", e.Thumbprint, e.Dir)
}

// certExtensions are the files the store reads.
var certExtensions = map[string]bool{".pem": true, ".crt": true, ".cer": true, ".pfx": true, ".p12": true}

// Load resolves a CERT argument: "none" (nil, nil), "dev" (the development
// certificate for p, the PKI made if missing), a SHA-1 thumbprint found in
// the store, or a file.
func (s *Store) Load(spec string, p Purpose) (*Credential, error) {
	spec = strings.TrimSpace(spec)
	switch {
	case spec == "":
		return nil, errors.New("no certificate named")
	case strings.EqualFold(spec, "none"):
		return nil, nil
	case strings.EqualFold(spec, "dev"):
		pki, err := s.Dev()
		if err != nil {
			return nil, err
		}
		return pki.For(p), nil
	}
	if _, err := os.Stat(spec); err != nil && LooksLikeThumbprint(spec) {
		t, err := ParseThumbprint(spec)
		if err != nil {
			return nil, err
		}
		return s.Find(t)
	}
	return LoadFile(spec, s.Password)
}

// Entry is one certificate file found in the store.
type Entry struct {
	// Credential is what the file holds; nil when it could not be read.
	*Credential
	// Err says why the file could not be read.
	Err error
}

// Entries reads every certificate file in the store, sorted by file name.
// Encrypted PKCS#12 files are read only when Password is set.
func (s *Store) Entries() ([]Entry, error) {
	files, err := s.files()
	if err != nil {
		return nil, err
	}
	entries := make([]Entry, 0, len(files))
	for _, f := range files {
		c, err := LoadFile(f, s.Password)
		if err != nil {
			entries = append(entries, Entry{Credential: &Credential{File: f}, Err: err})
			continue
		}
		entries = append(entries, Entry{Credential: c})
	}
	return entries, nil
}

// files lists the store's certificate files, sorted, after checking it: its
// folder and the folders in it (dev) but not deeper or hidden ones, without
// the key files read with their certificates.
func (s *Store) files() ([]string, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	var files []string
	err := filepath.WalkDir(s.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == s.Dir && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() && path != s.Dir && (strings.HasPrefix(d.Name(), ".") || filepath.Dir(path) != s.Dir) {
			return fs.SkipDir // temporary and nested folders are not the store's
		}
		if !d.IsDir() && certExtensions[strings.ToLower(filepath.Ext(path))] {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	return slices.DeleteFunc(slices.Clone(files), func(f string) bool { return keyOfSibling(f, files) }), nil
}

// keyOfSibling reports whether f is the key file (name-key.pem) of another
// of the store's files.
func keyOfSibling(f string, files []string) bool {
	for _, other := range files {
		if other != f && !isPKCS12(other) && KeyFilesBeside(other)[0] == f {
			return true
		}
	}
	return false
}

// Find returns the certificate with thumbprint t, preferring a file that
// holds its private key. Chain certificates in a file count too. The files
// that need no password are read first; only when none of them holds t
// with its key is a password asked, for one encrypted PKCS#12 file at a
// time (those named after t first) until one holds it.
func (s *Store) Find(t Thumbprint) (*Credential, error) {
	files, err := s.files()
	if err != nil {
		return nil, err
	}
	var found *Credential
	var locked []string
	for _, f := range files {
		c, err := LoadFile(f, nil)
		if errors.Is(err, errNeedsPassword) {
			locked = append(locked, f)
		}
		if err == nil {
			found = better(found, c, t)
		}
	}
	if s.Password != nil {
		hex := strings.ToLower(t.String())
		named := func(f string) bool { return strings.Contains(strings.ToLower(filepath.Base(f)), hex) }
		slices.SortStableFunc(locked, func(a, b string) int {
			switch {
			case named(a) && !named(b):
				return -1
			case named(b) && !named(a):
				return 1
			}
			return 0
		})
		for _, f := range locked {
			if found != nil && found.Key != nil {
				break
			}
			if c, err := LoadFile(f, s.Password); err == nil {
				found = better(found, c, t)
			}
		}
	}
	if found == nil {
		return nil, &NotFoundError{Thumbprint: t, Dir: s.Dir}
	}
	return found, nil
}

// better returns what is found of thumbprint t after looking in c, given
// found so far: c's leaf when it is t and found has no key, else a chain
// certificate of c that is t when nothing was found.
func better(found, c *Credential, t Thumbprint) *Credential {
	if c.Thumbprint() == t && (found == nil || found.Key == nil) {
		return c
	}
	for _, chain := range c.Chain {
		if found == nil && ThumbprintOf(chain) == t {
			return &Credential{Certificate: chain, File: c.File}
		}
	}
	return found
}

// CAs returns the CA certificates in the store, for showing chains.
func (s *Store) CAs() ([]*x509.Certificate, error) {
	entries, err := s.Entries()
	if err != nil {
		return nil, err
	}
	var cas []*x509.Certificate
	for _, e := range entries {
		if e.Err != nil {
			continue
		}
		for _, c := range append([]*x509.Certificate{e.Certificate}, e.Chain...) {
			if c.IsCA {
				cas = append(cas, c)
			}
		}
	}
	return cas, nil
}

// PurposeWarnings says why c looks wrong for purpose p, for warnings: a CA
// certificate, or one whose key usage is another, for signing or
// encryption; for serving TLS as host, one without serverAuth or without
// host's name. host "" or an unspecified address skips the name check.
func PurposeWarnings(c *x509.Certificate, p Purpose, host string) []string {
	var w []string
	if c.IsCA && c.KeyUsage&x509.KeyUsageCertSign != 0 {
		w = append(w, "it is a CA certificate, for issuing certificates; give it a leaf certificate of its own")
	}
	switch p {
	case PurposeSigning:
		switch {
		case c.KeyUsage == 0 || c.KeyUsage&x509.KeyUsageDigitalSignature != 0:
		case c.KeyUsage&(x509.KeyUsageKeyEncipherment|x509.KeyUsageDataEncipherment) != 0:
			w = append(w, "it is an encryption certificate (its key usage has key encipherment, not digital signature)")
		default:
			w = append(w, "its key usage does not include digital signature")
		}
	case PurposeEncryption:
		if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageKeyEncipherment == 0 {
			w = append(w, "its key usage does not include key encipherment, which RSA-OAEP is")
		}
	case PurposeServerAuth:
		if len(c.ExtKeyUsage) > 0 && !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageServerAuth) && !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageAny) {
			w = append(w, "it has no serverAuth extended key usage: TLS clients refuse it")
		}
		if ip, err := netip.ParseAddr(host); host != "" && !(err == nil && ip.IsUnspecified()) && c.VerifyHostname(host) != nil {
			w = append(w, fmt.Sprintf("it does not name %s, which clients connect to (it names %s)", host, OrNone(strings.Join(tlsNames(c), ", "))))
		}
	}
	return w
}

// Usages names what a certificate may be used for, as `ses certs list`
// filters them: signing, encrypting, serverauth, ca.
func Usages(c *x509.Certificate) []string {
	var u []string
	if c.IsCA {
		u = append(u, "ca")
	}
	if c.KeyUsage&x509.KeyUsageDigitalSignature != 0 && !c.IsCA {
		u = append(u, "signing")
	}
	if c.KeyUsage&(x509.KeyUsageKeyEncipherment|x509.KeyUsageDataEncipherment) != 0 {
		u = append(u, "encrypting")
	}
	for _, e := range c.ExtKeyUsage {
		if e == x509.ExtKeyUsageServerAuth {
			u = append(u, "serverauth")
		}
	}
	return u
}
