package acs

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/seskit/ses/tool"
)

// Namespace is a loaded service namespace: issuers, token policies and
// scopes with their rules. It does not change once loaded; a Service
// replaces it whole.
type Namespace struct {
	issuerURL string
	issuers   map[string]*issuer
	scopes    []*scope
	sum       [32]byte // SHA-256 of the file it was read from
}

type issuer struct {
	name string
	keys [][]byte // current, then previous
}

type policy struct {
	name     string
	lifetime time.Duration
	keys     [][]byte // current (signs), then previous
}

type scope struct {
	appliesTo string
	url       *url.URL
	policy    *policy
	rules     []Rule
}

// URL is the namespace's own URL, the Issuer of the tokens it issues.
func (ns *Namespace) URL() string { return ns.issuerURL }

// Claim is an input claim: the issuer that vouches for it, its type and
// its value.
type Claim struct{ Issuer, Type, Value string }

func (c Claim) String() string { return c.Type + "=" + c.Value }

// Grant is an output claim and how it came: the rule (numbered from 1 in
// its scope) and the input claim it matched.
type Grant struct {
	Type, Value string
	Rule        int
	RuleLine    int
	Input       Claim
}

// Miss is a rule that matched none of the input claims, and why.
type Miss struct {
	Rule     int
	RuleLine int
	Why      string
}

// Mapping is what a scope's rules make of a caller's input claims: the
// answer of the claim mapper, and of the issuer before it signs.
type Mapping struct {
	// AppliesTo is the scope's URL, the Audience of the token.
	AppliesTo string
	// Policy names the scope's token policy; Lifetime is its tokens'.
	Policy   string
	Lifetime time.Duration
	Inputs   []Claim
	Grants   []Grant
	Misses   []Miss

	ns    *Namespace
	scope *scope
}

// NoScopeError is a requested URL that no scope applies to.
type NoScopeError struct{ URL string }

func (e *NoScopeError) Error() string { return fmt.Sprintf("no scope applies to %q", e.URL) }

// UnknownIssuerError names an issuer the namespace does not have.
type UnknownIssuerError struct{ Name string }

func (e *UnknownIssuerError) Error() string { return fmt.Sprintf("no issuer named %q", e.Name) }

// Map runs the rules of the scope that applies to scopeURL over the input
// claims of a caller that authenticated as issuerName: an Issuer claim
// naming it, then each value of claims (an SWT assertion's; none for the
// password profile). The WRAP endpoint issues what Map grants.
func (ns *Namespace) Map(scopeURL, issuerName string, claims []tool.SWTClaim) (*Mapping, error) {
	s := ns.match(scopeURL)
	if s == nil {
		return nil, &NoScopeError{URL: scopeURL}
	}
	if ns.issuers[issuerName] == nil {
		return nil, &UnknownIssuerError{Name: issuerName}
	}
	m := &Mapping{AppliesTo: s.appliesTo, Policy: s.policy.name, Lifetime: s.policy.lifetime, ns: ns, scope: s}
	m.Inputs = []Claim{{Issuer: issuerName, Type: tool.SWTIssuer, Value: issuerName}}
	for _, c := range claims {
		for _, v := range c.Values {
			m.Inputs = append(m.Inputs, Claim{Issuer: issuerName, Type: c.Name, Value: v})
		}
	}
	for i, r := range s.rules {
		matched := false
		for _, in := range m.Inputs {
			if !r.matches(in) {
				continue
			}
			matched = true
			g := Grant{Type: r.OutputType, Value: r.OutputValue, Rule: i + 1, RuleLine: r.Line, Input: in}
			if r.PassThrough {
				g.Value = in.Value
				if g.Type == "" {
					g.Type = in.Type
				}
			}
			m.Grants = append(m.Grants, g)
		}
		if !matched {
			m.Misses = append(m.Misses, Miss{Rule: i + 1, RuleLine: r.Line, Why: r.miss(m.Inputs)})
		}
	}
	return m, nil
}

// Claims are the granted claims as the token carries them: by type in the
// order first granted, each value once.
func (m *Mapping) Claims() []tool.SWTClaim {
	var out []tool.SWTClaim
next:
	for _, g := range m.Grants {
		for i := range out {
			if out[i].Name == g.Type {
				for _, v := range out[i].Values {
					if v == g.Value {
						continue next
					}
				}
				out[i].Values = append(out[i].Values, g.Value)
				continue next
			}
		}
		out = append(out, tool.SWTClaim{Name: g.Type, Values: []string{g.Value}})
	}
	return out
}

// Mint signs the token the WRAP endpoint returns for m at now: the granted
// claims, the namespace as Issuer, the scope as Audience, expiring after the
// policy's lifetime; and that lifetime in seconds.
func (m *Mapping) Mint(now time.Time) (token string, expiresIn int) {
	swt := tool.SWT{Issuer: m.ns.issuerURL, Audience: m.scope.appliesTo, ExpiresOn: now.Add(m.Lifetime).Truncate(time.Second), Claims: m.Claims()}
	return tool.SignSWT(swt, m.scope.policy.keys[0]), int(m.Lifetime / time.Second)
}

// match finds the scope for a requested URL: the longest AppliesTo that is
// the URL itself or a prefix of it on a path-segment boundary.
func (ns *Namespace) match(requested string) *scope {
	u, err := url.Parse(requested)
	if err != nil {
		return nil
	}
	var best *scope
	for _, s := range ns.scopes {
		if !strings.EqualFold(s.url.Scheme, u.Scheme) || !strings.EqualFold(s.url.Host, u.Host) {
			continue
		}
		base := strings.TrimRight(s.url.Path, "/")
		if u.Path == s.url.Path || strings.TrimRight(u.Path, "/") == base || strings.HasPrefix(u.Path, base+"/") {
			if best == nil || len(s.url.Path) > len(best.url.Path) {
				best = s
			}
		}
	}
	return best
}

// check verifies a token the namespace issued for the scope whose
// AppliesTo is audience: signed with the scope policy's current or
// previous key, naming the namespace, unexpired.
func (ns *Namespace) check(raw, audience string, now time.Time) (*tool.SWT, error) {
	var s *scope
	for _, sc := range ns.scopes {
		if sc.appliesTo == audience {
			s = sc
		}
	}
	if s == nil {
		return nil, fmt.Errorf("no scope applies to %s", audience)
	}
	return tool.VerifySWT(raw, tool.SWTExpect{Keys: s.policy.keys, Issuer: ns.issuerURL, Audience: audience, Now: now})
}

// Rule maps an input claim to an output claim: an input from Issuer of
// type InputType and value InputValue (empty or "*": any value) yields
// OutputType=OutputValue, or with PassThrough the input's own value (under
// OutputType when given). Line is its line in the namespace file.
type Rule struct {
	Line                          int
	Issuer, InputType, InputValue string
	OutputType, OutputValue       string
	PassThrough                   bool
}

func (r Rule) anyValue() bool { return r.InputValue == "" || r.InputValue == "*" }

func (r Rule) matches(in Claim) bool {
	return in.Issuer == r.Issuer && in.Type == r.InputType && (r.anyValue() || r.InputValue == in.Value)
}

// miss says why no input matched r.
func (r Rule) miss(inputs []Claim) string {
	var fromIssuer, ofType []Claim
	for _, in := range inputs {
		if in.Issuer == r.Issuer {
			fromIssuer = append(fromIssuer, in)
			if in.Type == r.InputType {
				ofType = append(ofType, in)
			}
		}
	}
	switch {
	case len(fromIssuer) == 0:
		return fmt.Sprintf("wants a claim from issuer %s; the caller is %s", r.Issuer, inputs[0].Issuer)
	case len(ofType) == 0:
		return fmt.Sprintf("wants a %s claim from %s; there is none", r.InputType, r.Issuer)
	}
	var got []string
	for _, in := range ofType {
		got = append(got, in.String())
	}
	return fmt.Sprintf("wants %s=%s from %s; got %s", r.InputType, r.InputValue, r.Issuer, strings.Join(got, ", "))
}

// String says what r does: "partner role=operator -> action=Manage".
func (r Rule) String() string {
	in := r.InputType + "=" + r.InputValue
	if r.anyValue() {
		in = r.InputType + "=*"
	}
	out := r.OutputType + "=" + r.OutputValue
	if r.PassThrough {
		t := r.OutputType
		if t == "" {
			t = r.InputType
		}
		out = t + "=(the input's value)"
	}
	return r.Issuer + " " + in + " -> " + out
}
