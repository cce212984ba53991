package tool

import (
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// Thumbprint is the SHA-1 digest of a certificate's DER encoding, the name
// Windows and the Batch service give a certificate.
type Thumbprint [sha1.Size]byte

// ThumbprintOf returns the SHA-1 thumbprint of cert.
func ThumbprintOf(cert *x509.Certificate) Thumbprint { return sha1.Sum(cert.Raw) }

// String returns the thumbprint as 40 upper-case hex digits.
func (t Thumbprint) String() string { return strings.ToUpper(hex.EncodeToString(t[:])) }

// X5T returns the thumbprint as a JOSE "x5t" value: base64url, unpadded.
func (t Thumbprint) X5T() string { return base64.RawURLEncoding.EncodeToString(t[:]) }

// ParseThumbprint reads a SHA-1 thumbprint as people copy them: any case,
// with spaces or colons between digits (and the invisible left-to-right mark
// the Windows certificate dialog puts in front). It must hold exactly 40 hex
// digits.
func ParseThumbprint(s string) (Thumbprint, error) {
	var t Thumbprint
	digits, err := hexDigits(s)
	if err != nil {
		return t, err
	}
	if len(digits) != 2*len(t) {
		return t, fmt.Errorf("thumbprint %q has %d hex digits, want 40", s, len(digits))
	}
	hex.Decode(t[:], []byte(digits))
	return t, nil
}

// hexDigits strips separators from s and reports an error naming the first
// character that is neither a hex digit nor a separator.
func hexDigits(s string) (string, error) {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'f', r >= 'A' && r <= 'F':
			b.WriteRune(r)
		case r == ' ', r == ':', r == '\t', r == '-', r == '\u200e', r == '\ufeff':
		default:
			return "", fmt.Errorf("thumbprint %q: %q at position %d is not a hex digit", s, r, i)
		}
	}
	return b.String(), nil
}

// LooksLikeThumbprint reports whether s is meant as a thumbprint rather than
// a file name: after separators are removed it is nothing but hex digits, at
// least 16 of them.
func LooksLikeThumbprint(s string) bool {
	d, err := hexDigits(s)
	return err == nil && len(d) >= 16
}
