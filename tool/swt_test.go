package tool

import (
	"strings"
	"testing"
	"time"
)

// The specification's example.
const (
	specKey   = "zOT21KxyIjvk299o2cIlU987B3/3KbH/cZf0W8DNO0Q="
	specToken = "MethodName=GetData&Issuer=https%3a%2f%2fsaurabhvartak.accesscontrol.windows.net%2f&Audience=https%3a%2f%2fsaurabhvartak.servicebus.windows.net%2fService&ExpiresOn=1273861972&HMACSHA256=nNOXnhZl4wcoUsRanEDkEGFTjOe0QKT25LyLa5mhKYw%3d"
)

func TestSWTKnownAnswer(t *testing.T) {
	key, err := ParseSWTKey(specKey)
	if err != nil {
		t.Fatal(err)
	}
	expiry := time.Unix(1273861972, 0)
	s, err := VerifySWT(specToken, SWTExpect{Keys: [][]byte{key}, Now: expiry.Add(-time.Second),
		Issuer: "https://saurabhvartak.accesscontrol.windows.net/", Audience: "https://saurabhvartak.servicebus.windows.net/Service"})
	if err != nil {
		t.Fatalf("the specification's token: %v", err)
	}
	if got := s.Values("MethodName"); len(got) != 1 || got[0] != "GetData" {
		t.Errorf("MethodName = %v", got)
	}
	if _, err := VerifySWT(specToken, SWTExpect{Keys: [][]byte{key}, Now: time.Now()}); !IsReason(err, ReasonSWTExpired) {
		t.Errorf("today: %v, want expired (in 2010)", err)
	}
}

func TestSWTRoundTrip(t *testing.T) {
	cur, prev, other := mustKey(t), mustKey(t), mustKey(t)
	now := time.Unix(1800000000, 0)
	s := SWT{Issuer: "https://issuer.example/", Audience: "https://svc.example/admin", ExpiresOn: now.Add(time.Hour),
		Claims: []SWTClaim{{Name: "action", Values: []string{"Manage", "Read"}}, {Name: "who", Values: []string{"a b&c=d"}}}}
	want := SWTExpect{Keys: [][]byte{cur, prev}, Issuer: s.Issuer, Audience: s.Audience, Now: now}

	tok := SignSWT(s, cur)
	got, err := VerifySWT(tok, want)
	if err != nil {
		t.Fatal(err)
	}
	if v := got.Values("action"); len(v) != 2 || v[1] != "Read" || got.Values("who")[0] != "a b&c=d" {
		t.Errorf("claims %+v", got.Claims)
	}
	if _, err := VerifySWT(SignSWT(s, prev), want); err != nil {
		t.Errorf("signed with the previous key: %v", err)
	}
	if _, err := VerifySWT(SignSWT(s, other), want); !IsReason(err, ReasonSWTSignature) {
		t.Errorf("signed with neither key: %v", err)
	}
	// Any single flipped byte fails.
	for i := range tok {
		b := []byte(tok)
		b[i] ^= 0x01
		if _, err := VerifySWT(string(b), want); err == nil {
			t.Fatalf("flipping byte %d (%q) went unnoticed", i, tok[i])
		}
	}
	for _, tt := range []struct {
		name   string
		raw    string
		want   SWTExpect
		reason Reason
	}{
		{"expired", tok, SWTExpect{Keys: want.Keys, Now: now.Add(2 * time.Hour)}, ReasonSWTExpired},
		{"wrong issuer", tok, SWTExpect{Keys: want.Keys, Now: now, Issuer: "https://other/"}, ReasonSWTIssuer},
		{"wrong audience", tok, SWTExpect{Keys: want.Keys, Now: now, Audience: "https://other/"}, ReasonSWTAudience},
		{"duplicated issuer", "Issuer=a&" + tok, want, ReasonSWTDuplicate},
		{"HMAC not last", tok + "&x=y", want, ReasonSWTHMACLast},
		{"two HMACs", strings.Replace(tok, "&HMACSHA256=", "&HMACSHA256=abc&HMACSHA256=", 1), want, ReasonSWTHMACLast},
		{"no HMAC", "Issuer=a&Audience=b", want, ReasonSWTMalformed},
		{"too large", strings.Repeat("a", MaxSWTSize+1), want, ReasonSWTTooLarge},
	} {
		if _, err := VerifySWT(tt.raw, tt.want); !IsReason(err, tt.reason) {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.reason)
		}
	}
}

func mustKey(t *testing.T) []byte {
	k, err := ParseSWTKey(NewSWTKey())
	if err != nil || len(k) != 32 {
		t.Fatalf("new key: %v (%d bytes)", err, len(k))
	}
	return k
}

func FuzzParseSWT(f *testing.F) {
	f.Add(specToken)
	f.Add("a=b&HMACSHA256=x")
	f.Add("HMACSHA256=")
	f.Add("Issuer=a&Issuer=b&HMACSHA256=nNOXnhZl4wcoUsRanEDkEGFTjOe0QKT25LyLa5mhKYw%3d")
	key, _ := ParseSWTKey(specKey)
	f.Fuzz(func(t *testing.T, raw string) {
		s, r := ExplainSWT(raw, SWTExpect{Keys: [][]byte{key}, Now: time.Unix(1273861000, 0)})
		if r.Err() == nil && s == nil {
			t.Fatalf("%q passed with nothing read", raw)
		}
	})
}
