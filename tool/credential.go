package tool

import (
	"crypto"
	"crypto/x509"
)

// Credential is a certificate, the chain that came with it, and its private
// key when there is one.
type Credential struct {
	// Certificate is the leaf.
	Certificate *x509.Certificate
	// Chain holds the certificates that came with the leaf (intermediates
	// first), used to serve a full TLS chain.
	Chain []*x509.Certificate
	// Key is the private key, nil when the source held none.
	Key crypto.Signer
	// File is where the credential was loaded from, "" when made in memory.
	File string
	// KeyFile is where the key was read from when that is another file
	// than File: one beside it (see KeyFilesBeside) or one named for it.
	KeyFile string
}

// Thumbprint returns the leaf's SHA-1 thumbprint.
func (c *Credential) Thumbprint() Thumbprint { return ThumbprintOf(c.Certificate) }
