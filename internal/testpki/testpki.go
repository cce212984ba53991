// Package testpki makes the keys and certificates tests need, and measures
// the crypto floor that Open's and the server's benchmarks are compared to.
package testpki

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

// SelfSigned returns a self-signed RSA-2048 certificate for cn, valid from an
// hour ago for a day, and its key.
func SelfSigned(tb testing.TB, cn string) (*x509.Certificate, *rsa.PrivateKey) {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return cert, key
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
