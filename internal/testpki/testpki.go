// Package testpki holds the keys and certificates tests share, made once per
// test process instead of once per test: a test CA (ECDSA) that issues TLS
// leaves, RSA-2048 token keys, a development store to copy, and the crypto
// floor that Open's and the server's benchmarks are compared to.
package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"sync"
	"testing"
	"time"
)

// Cert is a certificate and its private key.
type Cert struct {
	Certificate *x509.Certificate
	Key         crypto.Signer
}

// CA is a root and an intermediate under it, both ECDSA P-256, valid from
// two hours ago for a day.
type CA struct {
	Root, Intermediate *Cert
}

var (
	caOnce   sync.Once
	sharedCA *CA
	caErr    error
)

// SharedCA returns the test CA, made on first use and shared by every test
// of the process.
func SharedCA(tb testing.TB) *CA {
	tb.Helper()
	caOnce.Do(func() { sharedCA, caErr = newCA() })
	if caErr != nil {
		tb.Fatal(caErr)
	}
	return sharedCA
}

// NewCA makes a CA of its own, for a test that needs CAs that do not trust
// each other.
func NewCA(tb testing.TB) *CA {
	tb.Helper()
	ca, err := newCA()
	if err != nil {
		tb.Fatal(err)
	}
	return ca
}

func newCA() (*CA, error) {
	later := time.Now().Add(24 * time.Hour)
	root, err := issue(template("test root", true, "", later), nil)
	if err != nil {
		return nil, err
	}
	inter, err := issue(template("test intermediate", true, "", later), root)
	if err != nil {
		return nil, err
	}
	return &CA{Root: root, Intermediate: inter}, nil
}

// Leaf issues a TLS server certificate for host under the intermediate,
// valid from two hours ago until notAfter, with a new ECDSA key.
func (ca *CA) Leaf(tb testing.TB, cn, host string, notAfter time.Time) *Cert {
	tb.Helper()
	c, err := issue(template(cn, false, host, notAfter), ca.Intermediate)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// SelfSignedLeaf makes a self-signed TLS server certificate for host, valid
// from two hours ago until notAfter, with a new ECDSA key.
func SelfSignedLeaf(tb testing.TB, cn, host string, notAfter time.Time) *Cert {
	tb.Helper()
	return SelfSigned(tb, template(cn, false, host, notAfter))
}

// SelfSigned makes a new ECDSA P-256 key and a self-signed certificate for
// it from tmpl, whose serial number it sets: for a certificate no other
// helper makes, such as one with a hostile name.
func SelfSigned(tb testing.TB, tmpl *x509.Certificate) *Cert {
	tb.Helper()
	c, err := issue(tmpl, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func template(cn string, isCA bool, host string, notAfter time.Time) *x509.Certificate {
	t := &x509.Certificate{
		Subject:   pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: notAfter,
		BasicConstraintsValid: true, IsCA: isCA,
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	if isCA {
		t.KeyUsage = x509.KeyUsageCertSign
	} else {
		t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		t.DNSNames = []string{host}
	}
	return t
}

// issue makes a new ECDSA P-256 key and a certificate for it from tmpl,
// signed by parent, or self-signed when parent is nil.
func issue(tmpl *x509.Certificate, parent *Cert) (*Cert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return sign(tmpl, key, parent)
}

func sign(tmpl *x509.Certificate, key crypto.Signer, parent *Cert) (*Cert, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	parentCert, parentKey := tmpl, key
	if parent != nil {
		parentCert, parentKey = parent.Certificate, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parentCert, key.Public(), parentKey)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Cert{Certificate: cert, Key: key}, nil
}

// The RSA keys a token needs, each made on first use and shared by every
// test of the process.
var (
	signing    = rsaCert{cn: "test signing"}
	encryption = rsaCert{cn: "test encryption"}
	other      = rsaCert{cn: "test other"}
)

// Signing returns the shared token signing certificate: self-signed
// RSA-2048, valid from an hour ago for a day.
func Signing(tb testing.TB) *Cert { return signing.get(tb) }

// Encryption returns the shared token encryption certificate, made as
// Signing's is.
func Encryption(tb testing.TB) *Cert { return encryption.get(tb) }

// Other returns a third RSA certificate, made as Signing's is, for a key a
// test must not trust.
func Other(tb testing.TB) *Cert { return other.get(tb) }

type rsaCert struct {
	cn   string
	once sync.Once
	cert *Cert
	err  error
}

func (r *rsaCert) get(tb testing.TB) *Cert {
	tb.Helper()
	r.once.Do(func() {
		var key *rsa.PrivateKey
		if key, r.err = rsa.GenerateKey(rand.Reader, 2048); r.err != nil {
			return
		}
		r.cert, r.err = sign(&x509.Certificate{
			Subject:   pkix.Name{CommonName: r.cn},
			NotBefore: time.Now().Add(-time.Hour),
			NotAfter:  time.Now().Add(24 * time.Hour),
			KeyUsage:  x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		}, key, nil)
	})
	if r.err != nil {
		tb.Fatal(r.err)
	}
	return r.cert
}

// Floor returns one round of the RSA work a new token cannot avoid: one
// RSA-OAEP decryption with enc and one RS512 verification of sign's
// signature. It is safe to call from several goroutines at once.
func Floor(tb testing.TB, sign, enc *rsa.PrivateKey) func() error {
	wrapped, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, &enc.PublicKey, make([]byte, 64), nil)
	if err != nil {
		tb.Fatal(err)
	}
	digest := sha512.Sum512([]byte("payload"))
	sig, err := sign.Sign(rand.Reader, digest[:], crypto.SHA512)
	if err != nil {
		tb.Fatal(err)
	}
	return func() error {
		if _, err := rsa.DecryptOAEP(sha1.New(), nil, enc, wrapped, nil); err != nil {
			return err
		}
		return rsa.VerifyPKCS1v15(&sign.PublicKey, crypto.SHA512, digest[:], sig)
	}
}

// CryptoFloor runs b's loop over Floor, on one goroutine.
func CryptoFloor(b *testing.B, sign, enc *rsa.PrivateKey) {
	round := Floor(b, sign, enc)
	for b.Loop() {
		if err := round(); err != nil {
			b.Fatal(err)
		}
	}
}
