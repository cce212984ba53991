package tool

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	josecipher "github.com/go-jose/go-jose/v4/cipher"
)

// Verifier opens entitlement tokens as a server configured with these
// certificates would (DESIGN §4).
type Verifier struct {
	// Sign is the certificate tokens must be signed with; nil means tokens
	// must be unsigned.
	Sign *x509.Certificate
	// Decrypt holds the key tokens must be encrypted to; nil means tokens
	// must be unencrypted.
	Decrypt *Credential
	// Issuer and Audience are the expected "iss" and "aud"; "" means the
	// defaults.
	Issuer, Audience string
}

// Token is an opened entitlement token: how it was protected and what it
// claims.
type Token struct {
	Encrypted          bool
	KeyAlgorithm       string // "alg" of the JWE
	ContentEncryption  string // "enc" of the JWE
	EncryptionKeyID    string // "kid" of the JWE
	Signed             bool
	SignatureAlgorithm string // "alg" of the JWS
	SigningKeyID       string // "kid" of the JWS
	SigningX5T         string // "x5t" of the JWS
	// Verified is false when a cryptographic check failed and the claims
	// were read without it (Explain only).
	Verified bool
	Claims   Claims
	// Digest is the SHA-256 of the token as presented, a cache key.
	Digest [sha256.Size]byte
}

// Request is what a token is checked against when it is presented.
type Request struct {
	// Now is the time to judge validity at.
	Now time.Time
	// Application must be one of the token's applications; "" skips the
	// check.
	Application string
	// Address must be one of the token's addresses; the zero value skips
	// the check.
	Address netip.Addr
}

// CheckResult is one named check of a token and its outcome: Err is nil when it
// passed.
type CheckResult struct {
	Name   string
	Detail string
	Err    *CheckError
}

// Explanation is the outcome of every check Explain could run, in order.
type Explanation struct {
	// Token is what could be read of the token, nil when nothing could.
	Token  *Token
	Checks []CheckResult
	// quiet keeps only the failed checks: Open needs no more.
	quiet bool
}

// Err returns the first failed check's error, or nil.
func (r *Explanation) Err() error {
	for _, c := range r.Checks {
		if c.Err != nil {
			return c.Err
		}
	}
	return nil
}

func (r *Explanation) pass(name, detail string) {
	if r.quiet {
		return
	}
	r.Checks = append(r.Checks, CheckResult{Name: name, Detail: detail})
}

func (r *Explanation) fail(name string, reason Reason, format string, args ...any) {
	r.Checks = append(r.Checks, CheckResult{Name: name, Err: &CheckError{Reason: reason, Msg: fmt.Sprintf(format, args...)}})
}

// Open decrypts and verifies raw and checks the claims that do not depend on
// the request or the time. Time, application and address are tok.Check's.
func (v *Verifier) Open(raw string) (*Token, error) {
	r := Explanation{quiet: true}
	tok := v.open(raw, &r)
	if err := r.Err(); err != nil {
		return nil, err
	}
	return tok, nil
}

// Explain runs every check it can on raw for req and reports each.
func (v *Verifier) Explain(raw string, req Request) *Explanation {
	r := &Explanation{}
	r.Token = v.open(raw, r)
	if r.Token != nil && r.Err() == nil {
		r.Checks = append(r.Checks, r.Token.checks(req)...)
	}
	return r
}

// Check checks the token against a request: its validity period at req.Now
// (with Leeway), the application and the address. It allocates nothing
// when every check passes.
func (t *Token) Check(req Request) error {
	if t.admits(req) {
		return nil
	}
	for _, c := range t.checks(req) {
		if c.Err != nil {
			return c.Err
		}
	}
	return nil
}

func (v *Verifier) expected() (iss, aud string) {
	iss, aud = v.Issuer, v.Audience
	if iss == "" {
		iss = DefaultIssuer
	}
	if aud == "" {
		aud = DefaultAudience
	}
	return iss, aud
}

// joseHeader is the part of a protected header the checks look at.
type joseHeader struct {
	Alg, Enc, Kid, X5T, Cty, Zip string
}

// parseHeader reads a decoded protected header. Member names are matched
// exactly, each of those read must be a string and appear once, and a
// "crit" member is refused: no extension is understood here.
func parseHeader(b []byte) (joseHeader, error) {
	var h joseHeader
	if !json.Valid(b) {
		var v map[string]json.RawMessage
		return h, fmt.Errorf("header is not a JSON object: %v", json.Unmarshal(b, &v))
	}
	var seen uint
	err := eachMember(b, func(name, value []byte) error {
		var dst *string
		var bit uint
		switch string(name) {
		case "alg":
			dst, bit = &h.Alg, 1<<0
		case "enc":
			dst, bit = &h.Enc, 1<<1
		case "kid":
			dst, bit = &h.Kid, 1<<2
		case "x5t":
			dst, bit = &h.X5T, 1<<3
		case "cty":
			dst, bit = &h.Cty, 1<<4
		case "zip":
			dst, bit = &h.Zip, 1<<5
		case "crit":
			return errors.New(`header has a "crit" member: no critical extension is supported`)
		default:
			return nil
		}
		if seen&bit != 0 {
			return fmt.Errorf("header has %q twice", name)
		}
		seen |= bit
		s, ok := jsonString(value)
		if !ok {
			return fmt.Errorf("header %q is %s, want a string", name, jsonKind(value))
		}
		*dst = s
		return nil
	})
	if err == errNotObject {
		return h, fmt.Errorf("header is %s, want a JSON object", jsonKind(b))
	}
	return h, err
}

// compact is a JOSE compact serialization split at its dots: how many
// parts it has, and the first five decoded, with where each ends in the
// text. The decoded parts lie one after the other in one buffer.
type compact struct {
	n    int
	end  [5]int
	part [5][]byte
}

// b64Strict refuses base64url that is not canonical: lenient decoding would
// let another text carry the same token.
var b64Strict = b64.Strict()

// splitCompact splits text, what names it, at its dots and decodes every
// part into buf (made larger when it is too small), one after the other.
func splitCompact(what string, text, buf []byte) (compact, []byte, error) {
	var c compact
	if need := b64.DecodedLen(len(text)); cap(buf) < need {
		buf = make([]byte, need)
	} else {
		buf = buf[:need]
	}
	for start, off := 0, 0; ; c.n++ {
		end := len(text)
		if i := bytes.IndexByte(text[start:], '.'); i >= 0 {
			end = start + i
		}
		part := text[start:end]
		if bytes.ContainsAny(part, "\r\n") {
			return c, buf, fmt.Errorf("part %d of %s has a line break: a token is one line", c.n+1, what)
		}
		n, err := b64Strict.Decode(buf[off:], part)
		if err != nil {
			return c, buf, fmt.Errorf("part %d of %s is not canonical base64url: %v", c.n+1, what, err)
		}
		if c.n < len(c.part) {
			c.end[c.n], c.part[c.n] = end, buf[off:off+n]
		}
		off += n
		if end == len(text) {
			c.n++
			return c, buf, nil
		}
		start = end + 1
	}
}

// open runs the checks of the token itself, recording each in r, and returns
// what it could read (nil when nothing).
func (v *Verifier) open(raw string, r *Explanation) *Token {
	if len(raw) > MaxTokenSize {
		r.fail("size", ReasonTooLarge, "token is %d bytes, more than the %d allowed", len(raw), MaxTokenSize)
		return nil
	}
	r.pass("size", fmt.Sprintf("%d bytes", len(raw)))
	text := []byte(raw)
	tok := &Token{Digest: sha256.Sum256(text), Verified: true}

	outer, buf, err := splitCompact("the token", text, nil)
	if err != nil {
		r.fail("format", ReasonMalformed, "%v", err)
		return nil
	}
	inner, jws := text, outer
	switch {
	case outer.n == 5:
		tok.Encrypted = true
		if inner = v.decrypt(text, &outer, tok, r); inner == nil {
			return nil
		}
		// The decoded outer parts are no longer needed: the inner ones
		// take their place.
		if jws, _, err = splitCompact("the inner token", inner, buf); err != nil {
			r.fail("format", ReasonMalformed, "%v", err)
			return nil
		}
	case outer.n == 3 && v.Decrypt != nil:
		r.fail("encryption", ReasonNotEncrypted, "token is not encrypted, want it encrypted to %s", v.Decrypt.Thumbprint())
		tok.Verified = false
	case outer.n == 3:
		r.pass("encryption", "not encrypted, as configured")
	default:
		r.fail("format", ReasonMalformed, "token has %d dot-separated parts, want 5 (encrypted) or 3 (signed or unsigned)", outer.n)
		return nil
	}

	payload, ok := v.verifySignature(inner, &jws, tok, r)
	if !ok {
		return nil
	}
	v.readClaims(payload, tok, r)
	return tok
}

// The sizes of A256CBC-HS512's key, IV and tag (RFC 7518 §5.2.5).
const (
	cekSize = 64
	ivSize  = aes.BlockSize
	tagSize = cekSize / 2
)

// decrypt checks the JWE's header and decrypts it: the text of the inner
// token, nil when it was refused.
func (v *Verifier) decrypt(text []byte, c *compact, tok *Token, r *Explanation) []byte {
	h, err := parseHeader(c.part[0])
	if err != nil {
		r.fail("format", ReasonMalformed, "encrypted token: %v", err)
		return nil
	}
	tok.KeyAlgorithm, tok.ContentEncryption, tok.EncryptionKeyID = h.Alg, h.Enc, h.Kid
	if v.Decrypt == nil {
		r.fail("encryption", ReasonUnexpectedEncryption, "token is encrypted (to %s) but no encryption certificate is configured; want an unencrypted token", OrNone(h.Kid))
		return nil
	}
	if h.Alg != KeyAlgorithm || h.Enc != ContentEncryption {
		r.fail("encryption", ReasonEncryptionAlgorithm, "token is encrypted with %s + %s, want %s + %s", OrNone(h.Alg), OrNone(h.Enc), KeyAlgorithm, ContentEncryption)
		return nil
	}
	if h.Zip != "" {
		// Production never compresses; decompressing first would open the
		// way to a decompression bomb.
		r.fail("encryption", ReasonEncryptionAlgorithm, "token is compressed (zip %q); production tokens are never compressed", h.Zip)
		return nil
	}
	want := v.Decrypt.Thumbprint()
	r.pass("encryption", KeyAlgorithm+" + "+ContentEncryption)
	if h.Kid != "" {
		if got, err := ParseThumbprint(h.Kid); err != nil || got != want {
			r.fail("encryption-key", ReasonEncryptionKey, "token is encrypted to key %q, want %s", h.Kid, want)
			return nil
		}
	}
	r.pass("encryption-key", want.String())
	key, ok := v.Decrypt.Key.(*rsa.PrivateKey)
	if !ok {
		r.fail("decryption", ReasonDecryption, "encryption certificate %s has no RSA private key to decrypt with", want)
		return nil
	}
	iv, ciphertext, tag := c.part[2], c.part[3], c.part[4]
	if len(iv) != ivSize || len(tag) != tagSize {
		r.fail("decryption", ReasonDecryption, "token's IV is %d bytes and its tag %d, want %d and %d", len(iv), len(tag), ivSize, tagSize)
		return nil
	}
	plain, err := openJWE(key, text[:c.end[0]], c.part[1], iv, ciphertext, tag)
	if err != nil {
		r.fail("decryption", ReasonDecryption, "token does not decrypt with %s: encrypted to another key, or altered", want)
		return nil
	}
	r.pass("decryption", "decrypted with "+want.String())
	return plain
}

// openJWE unwraps the content key with RSA-OAEP and decrypts A256CBC-HS512,
// the protected header as written being the additional authenticated data.
// The ciphertext and the tag lie one after the other, as splitCompact
// decodes them.
func openJWE(key *rsa.PrivateKey, aad, wrapped, iv, ciphertext, tag []byte) ([]byte, error) {
	cek, err := rsa.DecryptOAEP(sha1.New(), nil, key, wrapped, nil)
	if err != nil {
		return nil, err
	}
	if len(cek) != cekSize {
		return nil, fmt.Errorf("content key is %d bytes, want %d", len(cek), cekSize)
	}
	aead, err := josecipher.NewCBCHMAC(cek, aes.NewCipher)
	if err != nil {
		return nil, err
	}
	return aead.Open(nil, iv, ciphertext[:len(ciphertext)+len(tag)], aad)
}

// verifySignature checks the JWS's header and signature: the payload, and
// false when nothing more can be read.
func (v *Verifier) verifySignature(text []byte, c *compact, tok *Token, r *Explanation) ([]byte, bool) {
	if c.n != 3 {
		r.fail("format", ReasonMalformed, "inner token has %d dot-separated parts, want 3", c.n)
		return nil, false
	}
	h, err := parseHeader(c.part[0])
	if err != nil {
		r.fail("format", ReasonMalformed, "signed token: %v", err)
		return nil, false
	}
	tok.SignatureAlgorithm, tok.SigningKeyID, tok.SigningX5T = h.Alg, h.Kid, h.X5T
	tok.Signed = h.Alg != "none"
	payload, sig := c.part[1], c.part[2]
	unverified := func() ([]byte, bool) {
		tok.Verified = false
		return payload, true
	}

	if v.Sign == nil {
		if h.Alg != "none" || len(sig) != 0 {
			r.fail("signature", ReasonUnexpectedSignature, "token is signed (%s, key %s) but no signing certificate is configured; want an unsigned token", OrNone(h.Alg), OrNone(h.Kid))
			return unverified()
		}
		r.pass("signature", "unsigned, as configured")
		return payload, true
	}

	want := ThumbprintOf(v.Sign)
	switch {
	case h.Alg == "none" || h.Alg == "":
		r.fail("signature-algorithm", ReasonNotSigned, "token is unsigned (alg %q), want it signed %s by %s", h.Alg, SignatureAlgorithm, want)
		return unverified()
	case h.Alg != SignatureAlgorithm:
		r.fail("signature-algorithm", ReasonSignatureAlgorithm, "token is signed with %s, want %s", h.Alg, SignatureAlgorithm)
		return unverified()
	}
	r.pass("signature-algorithm", SignatureAlgorithm)
	if h.Kid != "" {
		if got, err := ParseThumbprint(h.Kid); err != nil || got != want {
			r.fail("signing-key", ReasonSigningKey, "token is signed by key %q, want %s", h.Kid, want)
			return unverified()
		}
	}
	if h.X5T != "" && h.X5T != want.X5T() {
		r.fail("signing-key", ReasonSigningKey, "token is signed by certificate x5t %q, want %s (%s)", h.X5T, want.X5T(), want)
		return unverified()
	}
	r.pass("signing-key", want.String())
	pub, ok := v.Sign.PublicKey.(*rsa.PublicKey)
	if !ok {
		r.fail("signature", ReasonSignature, "signing certificate %s has a %T key; RS512 needs RSA", want, v.Sign.PublicKey)
		return unverified()
	}
	// The signing input is the header and the payload as written (RFC
	// 7515 §5.2).
	digest := sha512.Sum512(text[:c.end[1]])
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA512, digest[:], sig); err != nil {
		r.fail("signature", ReasonSignature, "signature does not verify with %s: signed by another key, or altered", want)
		return unverified()
	}
	r.pass("signature", "verified with "+want.String())
	return payload, true
}

// readClaims parses the payload and runs the request-independent claim
// checks.
func (v *Verifier) readClaims(payload []byte, tok *Token, r *Explanation) {
	c, present, audiences, err := parseClaims(payload)
	tok.Claims = c
	if !tok.Verified {
		return // the claims are shown, but judging them would mean nothing
	}
	if err != nil {
		r.fail("claims", ReasonClaims, "%v", err)
		return
	}
	r.pass("claims", "well-formed")
	iss, aud := v.expected()
	required := func(name, what string) {
		if present.has(name) {
			r.pass(name, "present")
		} else {
			r.fail(name, ReasonMissingClaim, "token has no %q claim (%s)", name, what)
		}
	}
	required(ClaimExpiry, "expiry")
	switch {
	case !present.has(ClaimIssuer):
		r.fail(ClaimIssuer, ReasonIssuer, "token has no issuer, want %q", iss)
	case c.Issuer != iss:
		r.fail(ClaimIssuer, ReasonIssuer, "issuer is %q, want %q", c.Issuer, iss)
	default:
		r.pass(ClaimIssuer, c.Issuer)
	}
	switch {
	case audiences != nil:
		r.fail(ClaimAudience, ReasonAudience, "audience is a list %q, want the single audience %q", audiences, aud)
	case !present.has(ClaimAudience):
		r.fail(ClaimAudience, ReasonAudience, "token has no audience, want %q", aud)
	case c.Audience != aud:
		r.fail(ClaimAudience, ReasonAudience, "audience is %q, want %q", c.Audience, aud)
	default:
		r.pass(ClaimAudience, c.Audience)
	}
	if len(c.Applications) == 0 {
		r.fail(ClaimApplications, ReasonMissingClaim, "token names no application (%q claim)", ClaimApplications)
	} else {
		r.pass(ClaimApplications, strings.Join(c.Applications, ", "))
	}
	if present.has(ClaimID) && c.ID == "" {
		r.fail(ClaimID, ReasonMissingClaim, "token's %q claim (token id) is empty", ClaimID)
	} else {
		required(ClaimID, "token id")
	}
	required(ClaimIssuedAt, "issued at")
	for _, ip := range c.Addresses {
		if _, err := parseAddress(ip); err != nil {
			r.fail(ClaimAddresses, ReasonAddressClaim, "address %q in the token is not an IP address", ip)
			return
		}
	}
	r.pass(ClaimAddresses, fmt.Sprintf("%d address(es)", len(c.Addresses)))
}

// parseAddress reads an address as tokens and peers write them, comparing
// IPv4-mapped IPv6 addresses as IPv4 and ignoring an IPv6 zone.
func parseAddress(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return a, err
	}
	return a.WithZone("").Unmap(), nil
}

// EntitlesAddress reports whether addr is one of addresses, a token's ip
// claim, compared as Token.Check compares a caller's address: IPv4-mapped
// IPv6 as IPv4, an IPv6 zone ignored.
func EntitlesAddress(addresses []string, addr netip.Addr) bool {
	want := addr.WithZone("").Unmap()
	for _, s := range addresses {
		if a, err := parseAddress(s); err == nil && a == want {
			return true
		}
	}
	return false
}

// The request checks, each once, for checks (which explains them) and
// admits (which only decides).
func notYetValid(c *Claims, now time.Time) bool {
	return !c.NotBefore.IsZero() && now.Add(Leeway).Before(c.NotBefore)
}

func expired(c *Claims, now time.Time) bool { return !now.Add(-Leeway).Before(c.Expiry) }

func entitlesApplication(c *Claims, app string) bool {
	for _, a := range c.Applications {
		if strings.EqualFold(a, app) {
			return true
		}
	}
	return false
}

// admits reports whether every check of req passes, without explaining
// any: the cost of a request whose token is cached.
func (t *Token) admits(req Request) bool {
	c := &t.Claims
	return !notYetValid(c, req.Now) && !c.Expiry.IsZero() && !expired(c, req.Now) &&
		(req.Application == "" || entitlesApplication(c, req.Application)) &&
		(!req.Address.IsValid() || EntitlesAddress(c.Addresses, req.Address))
}

func (t *Token) checks(req Request) []CheckResult {
	var r Explanation
	c := &t.Claims
	now := req.Now
	switch {
	case notYetValid(c, now):
		r.fail("not-before", ReasonNotYetValid, "token is not valid before %s; it is now %s", FormatTime(c.NotBefore), FormatTime(now))
	default:
		r.pass("not-before", stampOrNone(c.NotBefore))
	}
	switch {
	case c.Expiry.IsZero():
		r.fail("expiry", ReasonExpired, "token has no expiry")
	case expired(c, now):
		r.fail("expiry", ReasonExpired, "token expired at %s; it is now %s", FormatTime(c.Expiry), FormatTime(now))
	default:
		r.pass("expiry", "until "+FormatTime(c.Expiry))
	}
	if req.Application != "" {
		if entitlesApplication(c, req.Application) {
			r.pass("application", req.Application)
		} else {
			r.fail("application", ReasonApplication, "token entitles %s, not %q", quoteList(c.Applications), req.Application)
		}
	}
	if req.Address.IsValid() {
		want := req.Address.WithZone("").Unmap()
		if EntitlesAddress(c.Addresses, want) {
			r.pass("address", want.String())
		} else {
			r.fail("address", ReasonAddress, "token entitles %s, not the address %s", quoteList(c.Addresses), want)
		}
	}
	return r.Checks
}

func quoteList(vs []string) string {
	if len(vs) == 0 {
		return "nothing"
	}
	return fmt.Sprintf("%q", vs)
}

func stampOrNone(t time.Time) string {
	if t.IsZero() {
		return "no nbf claim"
	}
	return "from " + FormatTime(t)
}

// OrNone is s for a person to read: "(none)" when it is empty.
func OrNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
