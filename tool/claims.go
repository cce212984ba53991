package tool

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// The defaults production's test tooling used for the issuer and audience.
const (
	DefaultIssuer   = "https://batch.azure.test/software-entitlement"
	DefaultAudience = "https://batch.azure.test/software-entitlement"
)

// DefaultLifetime is how long a token minted without an expiry is valid.
const DefaultLifetime = 7 * 24 * time.Hour

// MaxTokenSize is the largest token accepted; larger ones are refused before
// any cryptography.
const MaxTokenSize = 64 << 10

// Leeway is the clock skew allowed when checking nbf and exp.
const Leeway = 60 * time.Second

// The claim names of an entitlement token.
const (
	ClaimIssuer       = "iss"
	ClaimAudience     = "aud"
	ClaimNotBefore    = "nbf"
	ClaimExpiry       = "exp"
	ClaimIssuedAt     = "iat"
	ClaimID           = "id"
	ClaimApplications = "app"
	ClaimAddresses    = "ip"
	ClaimVMID         = "vmid"
)

// Claims is the payload of an entitlement token.
type Claims struct {
	ID        string
	Issuer    string
	Audience  string
	NotBefore time.Time
	Expiry    time.Time
	IssuedAt  time.Time
	// Applications are the entitled application ids.
	Applications []string
	// Addresses are the entitled node addresses, as written in the token.
	Addresses []string
	// VMID is the virtual machine id, "" when absent.
	VMID string
}

// NewTokenID returns a fresh token id, "token-" and a random UUID.
func NewTokenID() string { return "token-" + newUUID() }

// AppendEntitlementID appends a fresh entitlement id to b, "entitlement-"
// and a random UUID, without allocating when b has room.
func AppendEntitlementID(b []byte) []byte { return AppendGUID(append(b, "entitlement-"...)) }

// NewGUID returns a random (version 4) UUID in its usual text form.
func NewGUID() string { return newUUID() }

// AppendGUID appends a random (version 4) UUID to b, as NewGUID makes them.
func AppendGUID(b []byte) []byte {
	var u [16]byte
	rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, lowerHex[c>>4], lowerHex[c&0x0f])
	}
	return b
}

const lowerHex = "0123456789abcdef"

func newUUID() string { return string(AppendGUID(nil)) }

// MarshalJSON writes the claims as production does: app and ip as a string
// when there is one value and an array when there are several, times as
// NumericDate seconds, vmid only when set.
func (c Claims) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	field := func(name string, v any) {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(name)
		val, _ := json.Marshal(v)
		b.Write(k)
		b.WriteByte(':')
		b.Write(val)
	}
	oneOrMany := func(name string, vs []string) {
		if len(vs) == 1 {
			field(name, vs[0])
		} else if len(vs) > 1 {
			field(name, vs)
		}
	}
	oneOrMany(ClaimApplications, c.Applications)
	oneOrMany(ClaimAddresses, c.Addresses)
	if c.VMID != "" {
		field(ClaimVMID, c.VMID)
	}
	field(ClaimID, c.ID)
	field(ClaimNotBefore, c.NotBefore.Unix())
	field(ClaimExpiry, c.Expiry.Unix())
	field(ClaimIssuedAt, c.IssuedAt.Unix())
	field(ClaimIssuer, c.Issuer)
	field(ClaimAudience, c.Audience)
	b.WriteByte('}')
	return b.Bytes(), nil
}

// claimNames are the claims parseClaims reads, each with its bit in a
// presence.
var claimNames = [...]string{ClaimIssuer, ClaimAudience, ClaimNotBefore, ClaimExpiry, ClaimIssuedAt, ClaimID, ClaimApplications, ClaimAddresses, ClaimVMID}

// presence records which of claimNames a payload has, not null.
type presence uint16

func (p presence) has(name string) bool {
	for i, n := range claimNames {
		if n == name {
			return p&(1<<i) != 0
		}
	}
	return false
}

// parseClaims reads a token payload in one pass. It is lenient about shape
// so that the checks can name each problem: a claim that is missing (or
// null) is left zero and absent from present; a claim of the wrong type is
// an error. Of a claim given twice, the last counts, as production read
// them.
func parseClaims(payload []byte) (c Claims, present presence, audiences []string, err error) {
	if !json.Valid(payload) {
		var m map[string]json.RawMessage
		dec := json.NewDecoder(bytes.NewReader(payload))
		if err := dec.Decode(&m); err != nil {
			return c, 0, nil, fmt.Errorf("payload is not a JSON object: %v", err)
		}
		return c, 0, nil, fmt.Errorf("payload has data after the claims object")
	}
	var raw [len(claimNames)][]byte
	err = eachMember(payload, func(name, value []byte) error {
		for i, n := range claimNames {
			if string(name) == n {
				raw[i] = value
			}
		}
		return nil
	})
	if err != nil {
		return c, 0, nil, fmt.Errorf("payload is %s, want a JSON object", jsonKind(payload))
	}
	for i, v := range raw {
		if v != nil && !isNull(v) {
			present |= 1 << i
		}
	}
	value := func(name string) []byte {
		for i, n := range claimNames {
			if n == name && present&(1<<i) != 0 {
				return raw[i]
			}
		}
		return nil
	}
	str := func(name string, dst *string) error {
		v := value(name)
		if v == nil {
			return nil
		}
		s, ok := jsonString(v)
		if !ok {
			return fmt.Errorf("claim %q is %s, want a string", name, jsonKind(v))
		}
		*dst = s
		return nil
	}
	list := func(name string, dst *[]string) error {
		v := value(name)
		if v == nil {
			return nil
		}
		if s, ok := jsonString(v); ok {
			*dst = []string{s}
			return nil
		}
		vs, ok := stringArray(v)
		if !ok {
			return fmt.Errorf("claim %q is %s, want a string or an array of strings", name, jsonKind(v))
		}
		*dst = vs
		return nil
	}
	date := func(name string, dst *time.Time) error {
		v := value(name)
		if v == nil {
			return nil
		}
		// A NumericDate is a JSON number (RFC 7519 §2), never a quoted one.
		if jsonKind(v) != "a number" {
			return fmt.Errorf("claim %q is %s, want a NumericDate (seconds since 1970)", name, jsonKind(v))
		}
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil || math.IsNaN(f) || math.Abs(f) > 1e12 {
			return fmt.Errorf("claim %q is %s, not a NumericDate in range", name, v)
		}
		sec, frac := math.Modf(f)
		*dst = time.Unix(int64(sec), int64(frac*1e9)).UTC()
		return nil
	}
	for _, e := range []error{
		str(ClaimIssuer, &c.Issuer),
		str(ClaimID, &c.ID),
		str(ClaimVMID, &c.VMID),
		list(ClaimApplications, &c.Applications),
		list(ClaimAddresses, &c.Addresses),
		date(ClaimNotBefore, &c.NotBefore),
		date(ClaimExpiry, &c.Expiry),
		date(ClaimIssuedAt, &c.IssuedAt),
		audience(value(ClaimAudience), &c.Audience, &audiences),
	} {
		if e != nil {
			return c, present, nil, e
		}
	}
	return c, present, audiences, nil
}

// stringArray reads v as an array of strings, a null element as "" (as
// encoding/json does); ok is false when v is another value or holds
// another.
func stringArray(v []byte) (vs []string, ok bool) {
	vs = []string{}
	isArray, err := eachElement(v, func(e []byte) error {
		if isNull(e) {
			vs = append(vs, "")
			return nil
		}
		s, ok := jsonString(e)
		if !ok {
			return errNotString
		}
		vs = append(vs, s)
		return nil
	})
	return vs, isArray && err == nil
}

var errNotString = errors.New("not a string")

// audience reads "aud" (nil when absent), which must be one string:
// production refused a token naming several audiences, even one that
// included its own. An array is returned in many for the audience check to
// refuse by name.
func audience(v []byte, dst *string, many *[]string) error {
	if v == nil {
		return nil
	}
	if s, ok := jsonString(v); ok {
		*dst = s
		return nil
	}
	if vs, ok := stringArray(v); ok {
		*many = vs
		return nil
	}
	return fmt.Errorf("claim \"aud\" is %s, want a string", jsonKind(v))
}

func jsonKind(raw []byte) string {
	s := bytes.TrimSpace(raw)
	switch {
	case len(s) == 0:
		return "empty"
	case s[0] == '"':
		return "a string"
	case s[0] == '[':
		return "an array"
	case s[0] == '{':
		return "an object"
	case string(s) == "true" || string(s) == "false":
		return "a boolean"
	case string(s) == "null":
		return "null"
	default:
		return "a number"
	}
}
