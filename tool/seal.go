package tool

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"

	josecipher "github.com/go-jose/go-jose/v4/cipher"
)

// The algorithms of the production token: the only ones Seal writes and
// Open accepts.
const (
	SignatureAlgorithm = "RS512"
	KeyAlgorithm       = "RSA-OAEP"
	ContentEncryption  = "A256CBC-HS512"
)

var b64 = base64.RawURLEncoding

// Seal makes the token production issues for c: a JWS signed RS512 with
// sign, nested in a JWE encrypted RSA-OAEP + A256CBC-HS512 to encrypt.
// A nil sign leaves the token unsigned (alg "none"); a nil encrypt leaves it
// unencrypted.
//
// The compact forms are assembled here rather than by go-jose so that the
// protected headers carry their fields in production's order; Open splits
// them the same way, with the same primitives (crypto/rsa and go-jose's
// CBC-HMAC).
func Seal(c Claims, sign *Credential, encrypt *x509.Certificate) (string, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	jws, err := signJWS(payload, sign)
	if err != nil {
		return "", err
	}
	if encrypt == nil {
		return jws, nil
	}
	return encryptJWE([]byte(jws), encrypt)
}

// header writes a JOSE header with its fields in the order given.
func header(kv ...string) string {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := 0; i < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(kv[i])
		v, _ := json.Marshal(kv[i+1])
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b64.EncodeToString(b.Bytes())
}

func signJWS(payload []byte, sign *Credential) (string, error) {
	if sign == nil {
		return header("alg", "none", "typ", "JWT") + "." + b64.EncodeToString(payload) + ".", nil
	}
	if sign.Key == nil {
		return "", fmt.Errorf("signing certificate %s has no private key", sign.Thumbprint())
	}
	if _, ok := sign.Key.Public().(*rsa.PublicKey); !ok {
		return "", fmt.Errorf("signing certificate %s has a %T key; RS512 needs RSA", sign.Thumbprint(), sign.Key.Public())
	}
	t := sign.Thumbprint()
	input := header("alg", SignatureAlgorithm, "kid", t.String(), "x5t", t.X5T(), "typ", "JWT") +
		"." + b64.EncodeToString(payload)
	digest := sha512.Sum512([]byte(input))
	sig, err := sign.Key.Sign(rand.Reader, digest[:], crypto.SHA512)
	if err != nil {
		return "", fmt.Errorf("signing with %s: %w", t, err)
	}
	return input + "." + b64.EncodeToString(sig), nil
}

func encryptJWE(plaintext []byte, to *x509.Certificate) (string, error) {
	pub, ok := to.PublicKey.(*rsa.PublicKey)
	if !ok {
		return "", fmt.Errorf("encryption certificate %s has a %T key; RSA-OAEP needs RSA", ThumbprintOf(to), to.PublicKey)
	}
	protected := header("alg", KeyAlgorithm, "enc", ContentEncryption, "kid", ThumbprintOf(to).String(), "typ", "JWT", "cty", "JWT")

	// A256CBC-HS512 (RFC 7518 §5.2.5): a 64-byte key, the first half for
	// HMAC-SHA-512, the second for AES-256-CBC; the protected header, as
	// written, is the additional authenticated data.
	cek := make([]byte, 64)
	iv := make([]byte, aes.BlockSize)
	if _, err := rand.Read(cek); err != nil {
		return "", err
	}
	if _, err := rand.Read(iv); err != nil {
		return "", err
	}
	wrapped, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, pub, cek, nil)
	if err != nil {
		return "", fmt.Errorf("encrypting to %s: %w", ThumbprintOf(to), err)
	}
	aead, err := josecipher.NewCBCHMAC(cek, aes.NewCipher)
	if err != nil {
		return "", err
	}
	// Seal returns the ciphertext and then the tag, which is as long as
	// the HMAC key: 32 bytes.
	sealed := aead.Seal(nil, iv, plaintext, []byte(protected))
	tagAt := len(sealed) - len(cek)/2
	ct, tag := sealed[:tagAt], sealed[tagAt:]

	return protected + "." + b64.EncodeToString(wrapped) + "." + b64.EncodeToString(iv) + "." +
		b64.EncodeToString(ct) + "." + b64.EncodeToString(tag), nil
}
