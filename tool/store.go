package tool

import (
	"crypto/x509"
	"errors"
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
// home of the development PKI.
type Store struct {
	// Dir is the store's directory.
	Dir string
	// Password supplies the password of an encrypted PKCS#12 file.
	Password func(file string) ([]byte, error)
}

// DevPKI is the development PKI: a root, an intermediate, and the leaves
// issued under the intermediate.
type DevPKI struct {
	Root, Intermediate       *x509.Certificate
	TLS, Signing, Encryption *Credential
}

// Load resolves a CERT argument: "none" (nil, nil), "dev", a thumbprint in
// the store, or a file.
func (s *Store) Load(spec string, p Purpose) (*Credential, error) {
	if spec == "none" {
		return nil, nil
	}
	return nil, errors.New("TODO: store")
}

// Dev returns the development PKI, creating it on first need.
func (s *Store) Dev() (*DevPKI, error) { return nil, errors.New("TODO: store") }
