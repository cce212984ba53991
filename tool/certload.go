package tool

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"software.sslmate.com/src/go-pkcs12"
)

// LoadFile reads a credential from a file: PEM (certificates and a key, in
// any order), DER, or PKCS#12 (.pfx, .p12, including the legacy 3DES and
// RC2 encryption old Windows exports use). password is asked only for an
// encrypted PKCS#12 file; it may be nil.
func LoadFile(path string, password func(file string) ([]byte, error)) (*Credential, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cred, err := parseCredential(path, data, password)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cred.File = path
	return cred, nil
}

func parseCredential(path string, data []byte, password func(string) ([]byte, error)) (*Credential, error) {
	ext := strings.ToLower(filepath.Ext(path))
	switch {
	case ext == ".pfx" || ext == ".p12":
		return parsePKCS12(path, data, password)
	case bytes.Contains(data, []byte("-----BEGIN")):
		return parsePEM(data)
	}
	cert, err := x509.ParseCertificate(data)
	if err == nil {
		return &Credential{Certificate: cert}, nil
	}
	if cred, perr := parsePKCS12(path, data, password); perr == nil {
		return cred, nil
	}
	return nil, fmt.Errorf("not a PEM, DER or PKCS#12 certificate: %v", err)
}

func parsePKCS12(path string, data []byte, password func(string) ([]byte, error)) (*Credential, error) {
	key, cert, chain, err := pkcs12.DecodeChain(data, "")
	if errors.Is(err, pkcs12.ErrIncorrectPassword) && password != nil {
		var pw []byte
		if pw, err = password(path); err != nil {
			return nil, err
		}
		key, cert, chain, err = pkcs12.DecodeChain(data, string(pw))
	}
	if err != nil {
		if errors.Is(err, pkcs12.ErrIncorrectPassword) {
			return nil, fmt.Errorf("wrong password for the PKCS#12 file")
		}
		return nil, fmt.Errorf("reading PKCS#12: %v", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("PKCS#12 key of type %T is not supported", key)
	}
	return &Credential{Certificate: cert, Chain: chain, Key: signer}, nil
}

func parsePEM(data []byte) (*Credential, error) {
	var certs []*x509.Certificate
	var key crypto.Signer
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		switch block.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("certificate %d: %v", len(certs)+1, err)
			}
			certs = append(certs, c)
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
			if key != nil {
				return nil, fmt.Errorf("more than one private key")
			}
			k, err := parseKey(block)
			if err != nil {
				return nil, err
			}
			key = k
		case "ENCRYPTED PRIVATE KEY":
			return nil, fmt.Errorf("the private key is encrypted; decrypt it (openssl pkey) or use a PKCS#12 file")
		}
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("no certificate in the PEM file")
	}
	// The leaf is the certificate the key belongs to; without a key, the
	// first one.
	leaf := 0
	if key != nil {
		leaf = -1
		for i, c := range certs {
			if samePublicKey(c.PublicKey, key.Public()) {
				leaf = i
				break
			}
		}
		if leaf < 0 {
			return nil, fmt.Errorf("the private key belongs to none of the certificates")
		}
	}
	chain := append(append([]*x509.Certificate{}, certs[:leaf]...), certs[leaf+1:]...)
	return &Credential{Certificate: certs[leaf], Chain: chain, Key: key}, nil
}

func parseKey(block *pem.Block) (crypto.Signer, error) {
	var k any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("private key: %v", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private key of type %T is not supported", k)
	}
	return s, nil
}

func samePublicKey(a, b crypto.PublicKey) bool {
	switch a := a.(type) {
	case *rsa.PublicKey:
		return a.Equal(b)
	case *ecdsa.PublicKey:
		return a.Equal(b)
	}
	return false
}

// EncodePEM writes a credential as one PEM file: the certificate, its chain,
// then the key (PKCS#8) when there is one.
func EncodePEM(c *Credential) ([]byte, error) {
	var b bytes.Buffer
	for _, cert := range append([]*x509.Certificate{c.Certificate}, c.Chain...) {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	}
	if c.Key != nil {
		der, err := x509.MarshalPKCS8PrivateKey(c.Key)
		if err != nil {
			return nil, err
		}
		pem.Encode(&b, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	return b.Bytes(), nil
}
