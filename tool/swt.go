package tool

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The reserved names of a Simple Web Token (SWT 0.9.5.1).
const (
	SWTIssuer    = "Issuer"
	SWTAudience  = "Audience"
	SWTExpiresOn = "ExpiresOn"
	SWTHMAC      = "HMACSHA256"
)

// MaxSWTSize is the largest Simple Web Token read.
const MaxSWTSize = 16 << 10

// SWTClaim is one claim of a Simple Web Token; several values travel
// comma-separated.
type SWTClaim struct {
	Name   string
	Values []string
}

// SWT is a Simple Web Token's content.
type SWT struct {
	Issuer    string
	Audience  string
	ExpiresOn time.Time
	// Claims are the other claims, in token order.
	Claims []SWTClaim
}

// Values returns the values of the claim name, nil when absent.
func (s *SWT) Values(name string) []string {
	for _, c := range s.Claims {
		if c.Name == name {
			return c.Values
		}
	}
	return nil
}

// NewSWTKey returns a new HMAC-SHA256 key: base64 of 32 random bytes.
func NewSWTKey() string {
	var k [32]byte
	rand.Read(k[:])
	return base64.StdEncoding.EncodeToString(k[:])
}

// ParseSWTKey decodes a base64 key.
func ParseSWTKey(s string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(k) == 0 {
		return nil, fmt.Errorf("key %q is not base64", s)
	}
	return k, nil
}

// IsSWT tells a Simple Web Token from an entitlement token (dot-separated
// base64url, which never holds "=" followed by "&").
func IsSWT(raw string) bool {
	return strings.Contains(raw, "&"+SWTHMAC+"=") || strings.HasPrefix(raw, SWTHMAC+"=")
}

// SignSWT writes s as a Simple Web Token signed with key: the claims, then
// Issuer, Audience and ExpiresOn, form-URL-encoded, and last the HMAC of
// the bytes before it.
func SignSWT(s SWT, key []byte) string {
	var b strings.Builder
	add := func(name, value string) {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(name) + "=" + url.QueryEscape(value))
	}
	for _, c := range s.Claims {
		add(c.Name, strings.Join(c.Values, ","))
	}
	if s.Issuer != "" {
		add(SWTIssuer, s.Issuer)
	}
	if s.Audience != "" {
		add(SWTAudience, s.Audience)
	}
	if !s.ExpiresOn.IsZero() {
		add(SWTExpiresOn, strconv.FormatInt(s.ExpiresOn.Unix(), 10))
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(b.String()))
	return b.String() + "&" + SWTHMAC + "=" + url.QueryEscape(base64.StdEncoding.EncodeToString(m.Sum(nil)))
}

// SWTExpect is what a Simple Web Token is checked against.
type SWTExpect struct {
	// Keys are tried in order: the current key, then the previous one.
	Keys [][]byte
	// Issuer and Audience, when set, must match exactly.
	Issuer, Audience string
	Now              time.Time
}

// ParsedSWT is a Simple Web Token as read, before its HMAC is checked.
type ParsedSWT struct {
	SWT
	// Signed is the text the HMAC covers: everything before "&HMACSHA256=".
	Signed []byte
	// MAC is the HMAC-SHA256 the token carries.
	MAC []byte
}

// ParseSWT reads a Simple Web Token without checking its signature or
// claims.
func ParseSWT(raw string) (*ParsedSWT, error) {
	fail := func(reason Reason, format string, args ...any) (*ParsedSWT, error) {
		return nil, &CheckError{Reason: reason, Msg: fmt.Sprintf(format, args...)}
	}
	if len(raw) > MaxSWTSize {
		return fail(ReasonSWTTooLarge, "token is %d bytes, more than the %d allowed", len(raw), MaxSWTSize)
	}
	i := strings.LastIndex(raw, "&"+SWTHMAC+"=")
	if i < 0 {
		return fail(ReasonSWTMalformed, "token has no %s (it must be the last pair)", SWTHMAC)
	}
	signed, macPart := raw[:i], raw[i+len(SWTHMAC)+2:]
	if strings.Contains(macPart, "&") {
		return fail(ReasonSWTHMACLast, "%s is not the last pair of the token", SWTHMAC)
	}
	macText, err := url.QueryUnescape(macPart)
	if err != nil {
		return fail(ReasonSWTMalformed, "%s is not URL-encoded: %v", SWTHMAC, err)
	}
	// Strict: the unused low bits of the last digit must be zero, so no two
	// texts carry the same HMAC.
	mac, err := base64.StdEncoding.Strict().DecodeString(macText)
	if err != nil || len(mac) != sha256.Size {
		return fail(ReasonSWTMalformed, "%s %q is not a base64 HMAC-SHA256", SWTHMAC, macText)
	}
	p := &ParsedSWT{Signed: []byte(signed), MAC: mac}
	s := &p.SWT
	seen := map[string]bool{}
	for _, pair := range strings.Split(signed, "&") {
		k, v, ok := strings.Cut(pair, "=")
		name, err1 := url.QueryUnescape(k)
		value, err2 := url.QueryUnescape(v)
		if !ok || name == "" || err1 != nil || err2 != nil {
			return fail(ReasonSWTMalformed, "pair %q is not name=value, URL-encoded", pair)
		}
		switch name {
		case SWTIssuer, SWTAudience, SWTExpiresOn, SWTHMAC:
			if seen[name] {
				return fail(ReasonSWTDuplicate, "reserved name %s appears more than once", name)
			}
			seen[name] = true
		}
		switch name {
		case SWTIssuer:
			s.Issuer = value
		case SWTAudience:
			s.Audience = value
		case SWTExpiresOn:
			sec, err := strconv.ParseInt(value, 10, 64)
			if err != nil || sec < 0 || sec > 1e11 {
				return fail(ReasonSWTMalformed, "%s %q is not seconds since 1970", SWTExpiresOn, value)
			}
			s.ExpiresOn = time.Unix(sec, 0).UTC()
		case SWTHMAC:
			return fail(ReasonSWTHMACLast, "%s is not the last pair of the token", SWTHMAC)
		default:
			s.Claims = append(s.Claims, SWTClaim{Name: name, Values: strings.Split(value, ",")})
		}
	}
	return p, nil
}

// ExplainSWT checks a Simple Web Token and reports every check.
func ExplainSWT(raw string, want SWTExpect) (*SWT, *Explanation) {
	r := &Explanation{}
	p, err := ParseSWT(raw)
	var e *CheckError
	if errors.As(err, &e) {
		r.Checks = append(r.Checks, CheckResult{Name: "format", Err: e})
		return nil, r
	}
	s := &p.SWT
	r.pass("format", fmt.Sprintf("%d bytes, %d claims", len(raw), len(s.Claims)))
	matched := -1
	for i, k := range want.Keys {
		m := hmac.New(sha256.New, k)
		m.Write(p.Signed)
		if hmac.Equal(m.Sum(nil), p.MAC) {
			matched = i
			break
		}
	}
	switch {
	case len(want.Keys) == 0:
		r.fail("signature", ReasonSWTSignature, "no key to check the HMAC with")
	case matched < 0:
		r.fail("signature", ReasonSWTSignature, "HMACSHA256 matches none of the %d key(s): signed with another key, or altered", len(want.Keys))
	case matched == 0:
		r.pass("signature", "HMAC-SHA256 with the current key")
	default:
		r.pass("signature", "HMAC-SHA256 with the previous key")
	}
	switch {
	case s.ExpiresOn.IsZero():
		r.fail("expiry", ReasonSWTExpired, "token has no %s", SWTExpiresOn)
	case !want.Now.Before(s.ExpiresOn):
		r.fail("expiry", ReasonSWTExpired, "token expired at %s; it is now %s", FormatTime(s.ExpiresOn), FormatTime(want.Now))
	default:
		r.pass("expiry", "until "+FormatTime(s.ExpiresOn))
	}
	if want.Issuer != "" {
		if s.Issuer != want.Issuer {
			r.fail("issuer", ReasonSWTIssuer, "issuer is %q, want %q", s.Issuer, want.Issuer)
		} else {
			r.pass("issuer", s.Issuer)
		}
	}
	if want.Audience != "" {
		if s.Audience != want.Audience {
			r.fail("audience", ReasonSWTAudience, "audience is %q, want %q", s.Audience, want.Audience)
		} else {
			r.pass("audience", s.Audience)
		}
	}
	return s, r
}

// VerifySWT checks a Simple Web Token and returns it when every check
// passes.
func VerifySWT(raw string, want SWTExpect) (*SWT, error) {
	s, r := ExplainSWT(raw, want)
	if err := r.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

// MinSWTKeySize is the shortest key an issuer or a token policy may have:
// 256 bits, the size of the HMAC, so that guessing it is no shortcut.
const MinSWTKeySize = 32

// ShortKeyError is a key shorter than MinSWTKeySize.
type ShortKeyError struct{ Size int }

func (e *ShortKeyError) Error() string {
	unit := "bytes"
	if e.Size == 1 {
		unit = "byte"
	}
	return fmt.Sprintf("the key is %d %s; a key must be at least %d bytes (256 bits)", e.Size, unit, MinSWTKeySize)
}

// ParseSWTSigningKey decodes a base64 key that signs tokens or
// authenticates an issuer: at least MinSWTKeySize bytes.
func ParseSWTSigningKey(s string) ([]byte, error) {
	k, err := ParseSWTKey(s)
	if err != nil {
		return nil, err
	}
	if len(k) < MinSWTKeySize {
		return nil, &ShortKeyError{Size: len(k)}
	}
	return k, nil
}
