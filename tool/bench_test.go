package tool

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha512"
	"testing"
	"time"
)

// The figures to read together: Seal and Open of a signed and encrypted
// token against the crypto floor, one RSA-2048 OAEP decryption plus one
// RS512 verification, measured in the same run.
//
//	go test ./tool -run XXX -bench 'Seal|Open|CryptoFloor'

func BenchmarkSeal(b *testing.B) {
	sign, enc, _ := testCredentials(b)
	c := testClaims(time.Now())
	for b.Loop() {
		if _, err := Seal(c, sign, enc.Certificate); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	sign, enc, _ := testCredentials(b)
	tok, err := Seal(testClaims(time.Now()), sign, enc.Certificate)
	if err != nil {
		b.Fatal(err)
	}
	v := &Verifier{Sign: sign.Certificate, Decrypt: enc}
	for b.Loop() {
		if _, err := v.Open(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCryptoFloor is the RSA work Open cannot avoid.
func BenchmarkCryptoFloor(b *testing.B) {
	sign, enc, _ := testCredentials(b)
	cek := make([]byte, 64)
	wrapped, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, enc.Certificate.PublicKey.(*rsa.PublicKey), cek, nil)
	if err != nil {
		b.Fatal(err)
	}
	digest := sha512.Sum512([]byte("payload"))
	sig, err := sign.Key.Sign(rand.Reader, digest[:], crypto.SHA512)
	if err != nil {
		b.Fatal(err)
	}
	priv := enc.Key.(*rsa.PrivateKey)
	pub := sign.Certificate.PublicKey.(*rsa.PublicKey)
	for b.Loop() {
		if _, err := rsa.DecryptOAEP(sha1.New(), nil, priv, wrapped, nil); err != nil {
			b.Fatal(err)
		}
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA512, digest[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}
