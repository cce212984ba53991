package tool

import (
	"crypto/rsa"
	"testing"
	"time"

	"github.com/seskit/ses/internal/testpki"
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
	testpki.CryptoFloor(b, sign.Key.(*rsa.PrivateKey), enc.Key.(*rsa.PrivateKey))
}
