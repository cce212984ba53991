package tool

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
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
	r.Checks = append(r.Checks, CheckResult{Name: name, Detail: detail})
}

func (r *Explanation) fail(name string, reason Reason, format string, args ...any) {
	r.Checks = append(r.Checks, CheckResult{Name: name, Err: &CheckError{Reason: reason, Msg: fmt.Sprintf(format, args...)}})
}

// Open decrypts and verifies raw and checks the claims that do not depend on
// the request or the time. Time, application and address are tok.Check's.
func (v *Verifier) Open(raw string) (*Token, error) {
	var r Explanation
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
	Alg string `json:"alg"`
	Enc string `json:"enc"`
	Kid string `json:"kid"`
	X5T string `json:"x5t"`
	Cty string `json:"cty"`
	Zip string `json:"zip"`
}

func parseHeader(part string) (joseHeader, error) {
	var h joseHeader
	b, err := b64.DecodeString(strings.TrimRight(part, "="))
	if err != nil {
		return h, fmt.Errorf("header is not base64url: %v", err)
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return h, fmt.Errorf("header is not a JSON object: %v", err)
	}
	return h, nil
}

// open runs the checks of the token itself, recording each in r, and returns
// what it could read (nil when nothing).
func (v *Verifier) open(raw string, r *Explanation) *Token {
	if len(raw) > MaxTokenSize {
		r.fail("size", ReasonTooLarge, "token is %d bytes, more than the %d allowed", len(raw), MaxTokenSize)
		return nil
	}
	r.pass("size", fmt.Sprintf("%d bytes", len(raw)))
	tok := &Token{Digest: sha256.Sum256([]byte(raw)), Verified: true}

	// Every part must be canonical base64url: lenient decoding would let
	// another text carry the same token.
	for i, part := range strings.Split(raw, ".") {
		if _, err := b64.Strict().DecodeString(part); err != nil {
			r.fail("format", ReasonMalformed, "part %d of the token is not canonical base64url: %v", i+1, err)
			return nil
		}
	}
	inner := raw
	switch n := strings.Count(raw, ".") + 1; {
	case n == 5:
		tok.Encrypted = true
		plain, ok := v.decrypt(raw, tok, r)
		if !ok {
			return nil
		}
		inner = plain
	case n == 3 && v.Decrypt != nil:
		r.fail("encryption", ReasonNotEncrypted, "token is not encrypted, want it encrypted to %s", v.Decrypt.Thumbprint())
		tok.Verified = false
	case n == 3:
		r.pass("encryption", "not encrypted, as configured")
	default:
		r.fail("format", ReasonMalformed, "token has %d dot-separated parts, want 5 (encrypted) or 3 (signed or unsigned)", n)
		return nil
	}

	payload, ok := v.verifySignature(inner, tok, r)
	if !ok {
		return nil
	}
	v.readClaims(payload, tok, r)
	return tok
}

func (v *Verifier) decrypt(raw string, tok *Token, r *Explanation) (string, bool) {
	h, err := parseHeader(raw[:strings.IndexByte(raw, '.')])
	if err != nil {
		r.fail("format", ReasonMalformed, "encrypted token: %v", err)
		return "", false
	}
	tok.KeyAlgorithm, tok.ContentEncryption, tok.EncryptionKeyID = h.Alg, h.Enc, h.Kid
	if v.Decrypt == nil {
		r.fail("encryption", ReasonUnexpectedEncryption, "token is encrypted (to %s) but no encryption certificate is configured; want an unencrypted token", OrNone(h.Kid))
		return "", false
	}
	if h.Alg != KeyAlgorithm || h.Enc != ContentEncryption {
		r.fail("encryption", ReasonEncryptionAlgorithm, "token is encrypted with %s + %s, want %s + %s", OrNone(h.Alg), OrNone(h.Enc), KeyAlgorithm, ContentEncryption)
		return "", false
	}
	if h.Zip != "" {
		// Production never compresses; decompressing first would open the
		// way to a decompression bomb.
		r.fail("encryption", ReasonEncryptionAlgorithm, "token is compressed (zip %q); production tokens are never compressed", h.Zip)
		return "", false
	}
	want := v.Decrypt.Thumbprint()
	r.pass("encryption", KeyAlgorithm+" + "+ContentEncryption)
	if h.Kid != "" {
		if got, err := ParseThumbprint(h.Kid); err != nil || got != want {
			r.fail("encryption-key", ReasonEncryptionKey, "token is encrypted to key %q, want %s", h.Kid, want)
			return "", false
		}
	}
	r.pass("encryption-key", want.String())
	key, ok := v.Decrypt.Key.(*rsa.PrivateKey)
	if !ok {
		r.fail("decryption", ReasonDecryption, "encryption certificate %s has no RSA private key to decrypt with", want)
		return "", false
	}
	obj, err := jose.ParseEncryptedCompact(raw, []jose.KeyAlgorithm{jose.RSA_OAEP}, []jose.ContentEncryption{jose.A256CBC_HS512})
	if err != nil {
		r.fail("decryption", ReasonMalformed, "encrypted token is malformed: %v", err)
		return "", false
	}
	plain, err := obj.Decrypt(key)
	if err != nil {
		r.fail("decryption", ReasonDecryption, "token does not decrypt with %s: encrypted to another key, or altered", want)
		return "", false
	}
	r.pass("decryption", "decrypted with "+want.String())
	return string(plain), true
}

func (v *Verifier) verifySignature(inner string, tok *Token, r *Explanation) ([]byte, bool) {
	parts := strings.Split(inner, ".")
	if len(parts) != 3 {
		r.fail("format", ReasonMalformed, "inner token has %d dot-separated parts, want 3", len(parts))
		return nil, false
	}
	h, err := parseHeader(parts[0])
	if err != nil {
		r.fail("format", ReasonMalformed, "signed token: %v", err)
		return nil, false
	}
	tok.SignatureAlgorithm, tok.SigningKeyID, tok.SigningX5T = h.Alg, h.Kid, h.X5T
	tok.Signed = h.Alg != "none"
	unverified := func() []byte {
		tok.Verified = false
		p, err := b64.DecodeString(parts[1])
		if err != nil {
			return nil
		}
		return p
	}

	if v.Sign == nil {
		if h.Alg != "none" || parts[2] != "" {
			r.fail("signature", ReasonUnexpectedSignature, "token is signed (%s, key %s) but no signing certificate is configured; want an unsigned token", OrNone(h.Alg), OrNone(h.Kid))
			return unverified(), true
		}
		p, err := b64.DecodeString(parts[1])
		if err != nil {
			r.fail("format", ReasonMalformed, "payload is not base64url: %v", err)
			return nil, false
		}
		r.pass("signature", "unsigned, as configured")
		return p, true
	}

	want := ThumbprintOf(v.Sign)
	switch {
	case h.Alg == "none" || h.Alg == "":
		r.fail("signature-algorithm", ReasonNotSigned, "token is unsigned (alg %q), want it signed %s by %s", h.Alg, SignatureAlgorithm, want)
		return unverified(), true
	case h.Alg != SignatureAlgorithm:
		r.fail("signature-algorithm", ReasonSignatureAlgorithm, "token is signed with %s, want %s", h.Alg, SignatureAlgorithm)
		return unverified(), true
	}
	r.pass("signature-algorithm", SignatureAlgorithm)
	if h.Kid != "" {
		if got, err := ParseThumbprint(h.Kid); err != nil || got != want {
			r.fail("signing-key", ReasonSigningKey, "token is signed by key %q, want %s", h.Kid, want)
			return unverified(), true
		}
	}
	if h.X5T != "" && h.X5T != want.X5T() {
		r.fail("signing-key", ReasonSigningKey, "token is signed by certificate x5t %q, want %s (%s)", h.X5T, want.X5T(), want)
		return unverified(), true
	}
	r.pass("signing-key", want.String())
	obj, err := jose.ParseSignedCompact(inner, []jose.SignatureAlgorithm{jose.RS512})
	if err != nil {
		r.fail("signature", ReasonMalformed, "signed token is malformed: %v", err)
		return unverified(), true
	}
	payload, err := obj.Verify(v.Sign.PublicKey)
	if err != nil {
		r.fail("signature", ReasonSignature, "signature does not verify with %s: signed by another key, or altered", want)
		return unverified(), true
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
		if present[name] {
			r.pass(name, "present")
		} else {
			r.fail(name, ReasonMissingClaim, "token has no %q claim (%s)", name, what)
		}
	}
	required(ClaimExpiry, "expiry")
	switch {
	case !present[ClaimIssuer]:
		r.fail(ClaimIssuer, ReasonIssuer, "token has no issuer, want %q", iss)
	case c.Issuer != iss:
		r.fail(ClaimIssuer, ReasonIssuer, "issuer is %q, want %q", c.Issuer, iss)
	default:
		r.pass(ClaimIssuer, c.Issuer)
	}
	switch {
	case audiences != nil:
		r.fail(ClaimAudience, ReasonAudience, "audience is a list %q, want the single audience %q", audiences, aud)
	case !present[ClaimAudience]:
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
	if present[ClaimID] && c.ID == "" {
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
