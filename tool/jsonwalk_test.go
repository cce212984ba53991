package tool

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// referenceClaims reads a payload the way encoding/json reads it into a
// map, each claim then decoded on its own: slower, and what parseClaims
// must agree with on every JSON object.
func referenceClaims(payload []byte) (c Claims, present map[string]bool, audiences []string, err error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&raw); err != nil {
		return c, nil, nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return c, nil, nil, fmt.Errorf("data after the object")
	}
	present = map[string]bool{}
	for k, v := range raw {
		if !bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			present[k] = true
		}
	}
	str := func(name string, dst *string) error {
		if present[name] && json.Unmarshal(raw[name], dst) != nil {
			return fmt.Errorf("claim %q is %s, want a string", name, jsonKind(raw[name]))
		}
		return nil
	}
	list := func(name string, dst *[]string) error {
		if !present[name] {
			return nil
		}
		var one string
		if json.Unmarshal(raw[name], &one) == nil {
			*dst = []string{one}
			return nil
		}
		if json.Unmarshal(raw[name], dst) != nil {
			return fmt.Errorf("claim %q is %s, want a string or an array of strings", name, jsonKind(raw[name]))
		}
		return nil
	}
	date := func(name string, dst *time.Time) error {
		if !present[name] {
			return nil
		}
		var n json.Number
		if jsonKind(raw[name]) != "a number" || json.Unmarshal(raw[name], &n) != nil {
			return fmt.Errorf("claim %q is %s, want a NumericDate (seconds since 1970)", name, jsonKind(raw[name]))
		}
		f, err := n.Float64()
		if err != nil || math.IsNaN(f) || math.Abs(f) > 1e12 {
			return fmt.Errorf("claim %q is %s, not a NumericDate in range", name, n)
		}
		sec, frac := math.Modf(f)
		*dst = time.Unix(int64(sec), int64(frac*1e9)).UTC()
		return nil
	}
	aud := func() error {
		if !present[ClaimAudience] || json.Unmarshal(raw[ClaimAudience], &c.Audience) == nil {
			return nil
		}
		if json.Unmarshal(raw[ClaimAudience], &audiences) == nil && audiences != nil {
			return nil
		}
		audiences = nil
		return fmt.Errorf("claim \"aud\" is %s, want a string", jsonKind(raw[ClaimAudience]))
	}
	for _, e := range []error{
		str(ClaimIssuer, &c.Issuer), str(ClaimID, &c.ID), str(ClaimVMID, &c.VMID),
		list(ClaimApplications, &c.Applications), list(ClaimAddresses, &c.Addresses),
		date(ClaimNotBefore, &c.NotBefore), date(ClaimExpiry, &c.Expiry), date(ClaimIssuedAt, &c.IssuedAt),
		aud(),
	} {
		if e != nil {
			return c, present, nil, e
		}
	}
	return c, present, audiences, nil
}

func claimSeeds() []string {
	good, _ := json.Marshal(testClaims(time.Unix(1700000000, 0)))
	return []string{
		string(good),
		`{}`,
		` {"iss":"a","iss":"b","exp":1,"exp":null} `,
		`{"app":["a",null,"c"],"ip":"10.0.0.1","aud":["x","y"]}`,
		`{"app":[],"aud":[]}`,
		`{"aud":[1],"app":[{"x":1}]}`,
		`{"\u0069ss":"esc\u00e9\n\"","id":"\ud83d\ude00","vmid":"bad \xff utf-8"}`,
		`{"exp":1e400,"nbf":-0.5,"iat":"1"}`,
		`{"exp":12.75,"nbf":0,"iat":1e3,"x":{"y":[1,{"z":"}]"}]},"id":""}`,
		`{"exp":true,"iss":5,"id":{},"vmid":[]}`,
		"{\"k\\\"ey\":1,\t\"exp\"\r\n:\n2}",
		`{"a":1} {}`,
		`[1,2]`,
		`null`,
		`"s"`,
		`{"a":`,
	}
}

// FuzzParseClaims checks the one-pass reading of claims against
// referenceClaims on every JSON object, and that anything else is refused.
func FuzzParseClaims(f *testing.F) {
	for _, s := range claimSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		c, present, audiences, err := parseClaims(payload)
		if trimmed := bytes.TrimLeft(payload, " \t\r\n"); !json.Valid(payload) || len(trimmed) == 0 || trimmed[0] != '{' {
			if err == nil {
				t.Fatalf("%q is not a JSON object, and it was read as claims %+v", payload, c)
			}
			return
		}
		rc, rpresent, raudiences, rerr := referenceClaims(payload)
		switch {
		case (err == nil) != (rerr == nil) || err != nil && err.Error() != rerr.Error():
			t.Fatalf("%q: error %v, want %v", payload, err, rerr)
		case err != nil:
			return
		case !reflect.DeepEqual(c, rc):
			t.Fatalf("%q: claims\n%#v\nwant\n%#v", payload, c, rc)
		case !reflect.DeepEqual(audiences, raudiences):
			t.Fatalf("%q: audiences %#v, want %#v", payload, audiences, raudiences)
		}
		for _, name := range claimNames {
			if present.has(name) != rpresent[name] {
				t.Fatalf("%q: claim %q present %v, want %v", payload, name, present.has(name), rpresent[name])
			}
		}
	})
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		header string
		want   joseHeader
		err    string // a part of the error; "" when read
	}{
		{`{"alg":"RS512","kid":"K","x5t":"X","typ":"JWT","cty":"JWT","zip":"DEF","enc":"E","other":[1,{"alg":2}]}`,
			joseHeader{Alg: "RS512", Kid: "K", X5T: "X", Cty: "JWT", Zip: "DEF", Enc: "E"}, ""},
		{` { "al\u0067" : "none" } `, joseHeader{Alg: "none"}, ""},
		{`{"ALG":"RS512","Kid":"K"}`, joseHeader{}, ""},
		{`{"typ":1,"alg":"RS512","alg ":5}`, joseHeader{Alg: "RS512"}, ""},
		{`{"alg":"RS512","alg":"RS512"}`, joseHeader{}, `"alg" twice`},
		{`{"kid":null}`, joseHeader{}, `"kid" is null, want a string`},
		{`{"enc":["x"]}`, joseHeader{}, `"enc" is an array`},
		{`{"crit":[]}`, joseHeader{}, `"crit"`},
		{`[]`, joseHeader{}, "header is an array, want a JSON object"},
		{`{"alg":"RS512"} x`, joseHeader{}, "not a JSON object"},
		{``, joseHeader{}, "not a JSON object"},
	}
	for _, tt := range tests {
		h, err := parseHeader([]byte(tt.header))
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%s: %v", tt.header, err)
		case tt.err == "" && h != tt.want:
			t.Errorf("%s: read %+v, want %+v", tt.header, h, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: error %v, want one saying %s", tt.header, err, tt.err)
		}
	}
}
