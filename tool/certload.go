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
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"software.sslmate.com/src/go-pkcs12"
)

// LoadFile reads a credential from a file: PEM (certificates and a key, in
// any order), DER, or PKCS#12 (.pfx, .p12, including the legacy 3DES and
// RC2 encryption old Windows exports use). A certificate without its key
// takes the key from a file beside it (KeyFilesBeside) when there is one.
// password is asked only for an encrypted PKCS#12 file; it may be nil.
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
	if cred.Key == nil && !isPKCS12(path) {
		for _, kf := range KeyFilesBeside(path) {
			err := cred.UseKeyFile(kf)
			if err == nil || !errors.Is(err, fs.ErrNotExist) {
				return cred, err
			}
		}
	}
	return cred, nil
}

// KeyFilesBeside lists where the key of a certificate file is looked for,
// in order, as mkcert, openssl and step name them: for name.pem (or .crt,
// .cer), name-key.pem and name.key.
func KeyFilesBeside(certFile string) []string {
	base := strings.TrimSuffix(certFile, filepath.Ext(certFile))
	return []string{base + "-key.pem", base + ".key"}
}

// UseKeyFile reads a private key from path (PEM or DER: PKCS#8, PKCS#1 or
// SEC 1) and makes it the credential's key, which it must belong to.
func (c *Credential) UseKeyFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	key, err := parseKeyFile(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if !samePublicKey(c.Certificate.PublicKey, key.Public()) {
		return fmt.Errorf("the key in %s belongs to another certificate than %s (%s)", path, OrNone(c.File), c.Thumbprint())
	}
	c.Key, c.KeyFile = key, path
	return nil
}

// parseKeyFile reads a file that holds one private key and nothing else.
func parseKeyFile(data []byte) (crypto.Signer, error) {
	if !bytes.Contains(data, []byte("-----BEGIN")) {
		for _, typ := range []string{"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"} {
			if k, err := parseKey(&pem.Block{Type: typ, Bytes: data}); err == nil {
				return k, nil
			}
		}
		return nil, errors.New("not a PEM or DER private key")
	}
	cred, err := parsePEMBlocks(data)
	switch {
	case err != nil:
		return nil, err
	case cred.key == nil:
		return nil, errors.New("no private key in the file")
	case len(cred.certs) > 0:
		return nil, errors.New("the file holds certificates too; name it as the certificate")
	}
	return cred.key, nil
}

func isPKCS12(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".pfx" || ext == ".p12"
}

func parseCredential(path string, data []byte, password func(string) ([]byte, error)) (*Credential, error) {
	switch {
	case isPKCS12(path):
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

// errNeedsPassword is an encrypted PKCS#12 file read without a password.
var errNeedsPassword = errors.New("the PKCS#12 file is encrypted: it needs a password")

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
		switch {
		case errors.Is(err, pkcs12.ErrIncorrectPassword) && password == nil:
			return nil, errNeedsPassword
		case errors.Is(err, pkcs12.ErrIncorrectPassword):
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

// pemContents is what the blocks of a PEM file hold.
type pemContents struct {
	certs []*x509.Certificate
	key   crypto.Signer
}

// parsePEMBlocks reads the certificates and the (one) key of a PEM file.
func parsePEMBlocks(data []byte) (pemContents, error) {
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
				return pemContents{}, fmt.Errorf("certificate %d: %v", len(certs)+1, err)
			}
			certs = append(certs, c)
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
			if key != nil {
				return pemContents{}, fmt.Errorf("more than one private key")
			}
			k, err := parseKey(block)
			if err != nil {
				return pemContents{}, err
			}
			key = k
		case "ENCRYPTED PRIVATE KEY":
			return pemContents{}, fmt.Errorf("the private key is encrypted; decrypt it (openssl pkey) or use a PKCS#12 file")
		}
	}
	return pemContents{certs: certs, key: key}, nil
}

func parsePEM(data []byte) (*Credential, error) {
	pc, err := parsePEMBlocks(data)
	if err != nil {
		return nil, err
	}
	certs, key := pc.certs, pc.key
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

// EncodePEM writes a credential as one PEM file: the certificate (when
// there is one), its chain, then the key (PKCS#8) when there is one.
func EncodePEM(c *Credential) ([]byte, error) {
	var b bytes.Buffer
	for _, cert := range append([]*x509.Certificate{c.Certificate}, c.Chain...) {
		if cert != nil {
			pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
		}
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
