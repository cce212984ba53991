package acs

import (
	"errors"
	"net/url"
	"reflect"
	"testing"

	"github.com/seskit/ses/tool"
)

func TestMap(t *testing.T) {
	ns := load(t)
	claims := []tool.SWTClaim{{Name: "group", Values: []string{"ops", "dev"}}, {Name: "role", Values: []string{"guest"}}}
	m, err := ns.Map(adminScope+"/leases", "partner", claims)
	if err != nil {
		t.Fatal(err)
	}
	if m.AppliesTo != adminScope || m.Policy != "admin" || m.Lifetime.String() != "1h0m0s" {
		t.Errorf("scope %s policy %s lifetime %s", m.AppliesTo, m.Policy, m.Lifetime)
	}
	wantInputs := []Claim{{"partner", "Issuer", "partner"}, {"partner", "group", "ops"}, {"partner", "group", "dev"}, {"partner", "role", "guest"}}
	if !reflect.DeepEqual(m.Inputs, wantInputs) {
		t.Errorf("inputs %v, want %v", m.Inputs, wantInputs)
	}
	wantGrants := []Grant{
		{Type: "group", Value: "ops", Rule: 2, RuleLine: 33, Input: wantInputs[1]},
		{Type: "group", Value: "dev", Rule: 2, RuleLine: 33, Input: wantInputs[2]},
	}
	if !reflect.DeepEqual(m.Grants, wantGrants) {
		t.Errorf("grants %+v, want %+v", m.Grants, wantGrants)
	}
	wantMisses := []Miss{
		{Rule: 1, RuleLine: 30, Why: "wants a claim from issuer buildagent; the caller is partner"},
		{Rule: 3, RuleLine: 35, Why: "wants role=operator from partner; got role=guest"},
	}
	if !reflect.DeepEqual(m.Misses, wantMisses) {
		t.Errorf("misses %+v, want %+v", m.Misses, wantMisses)
	}
	if got := m.Claims(); !reflect.DeepEqual(got, []tool.SWTClaim{{Name: "group", Values: []string{"ops", "dev"}}}) {
		t.Errorf("claims %v", got)
	}

	m, _ = ns.Map(adminScope, "partner", []tool.SWTClaim{{Name: "job", Values: []string{"x"}}})
	if len(m.Grants) != 0 || m.Misses[1].Why != "wants a group claim from partner; there is none" {
		t.Errorf("no grants expected, misses %+v", m.Misses)
	}

	var noScope *NoScopeError
	if _, err := ns.Map("https://elsewhere/", "partner", nil); !errors.As(err, &noScope) {
		t.Errorf("unknown scope: %v", err)
	}
	var noIssuer *UnknownIssuerError
	if _, err := ns.Map(adminScope, "stranger", nil); !errors.As(err, &noIssuer) {
		t.Errorf("unknown issuer: %v", err)
	}
}

// TestMintIsWhatTheIssuerReturns: the claim mapper's token, minted at the
// same instant, is byte for byte the one the WRAP endpoint issues.
func TestMintIsWhatTheIssuerReturns(t *testing.T) {
	svc, clk := service(t)
	for _, tt := range []struct {
		name   string
		form   url.Values
		issuer string
		claims []tool.SWTClaim
	}{
		{"password", passwordForm("buildagent", agentKey), "buildagent", nil},
		{"assertion", assertionForm(assertion("partner", partnerKey, tool.SWTClaim{Name: "group", Values: []string{"ops", "dev"}},
			tool.SWTClaim{Name: "role", Values: []string{"operator"}})), "partner",
			[]tool.SWTClaim{{Name: "group", Values: []string{"ops", "dev"}}, {Name: "role", Values: []string{"operator"}}}},
	} {
		status, body, _ := wrap(t, svc, "10.0.0.1:1", tt.form)
		answer, _ := url.ParseQuery(body)
		m, err := svc.Namespace().Map(adminScope, tt.issuer, tt.claims)
		if err != nil {
			t.Fatal(err)
		}
		minted, expiresIn := m.Mint(clk.Now())
		if status != 200 || answer.Get("wrap_access_token") != minted || answer.Get("wrap_access_token_expires_in") != "3600" || expiresIn != 3600 {
			t.Errorf("%s: the issuer answered %d %q; the mapper minted %q (%d s)", tt.name, status, body, minted, expiresIn)
		}
	}
}

func TestRuleString(t *testing.T) {
	for _, tt := range []struct {
		r    Rule
		want string
	}{
		{Rule{Issuer: "a", InputType: "Issuer", InputValue: "a", OutputType: "action", OutputValue: "Manage"}, "a Issuer=a -> action=Manage"},
		{Rule{Issuer: "p", InputType: "group", PassThrough: true}, "p group=* -> group=(the input's value)"},
		{Rule{Issuer: "p", InputType: "group", InputValue: "*", OutputType: "role", PassThrough: true}, "p group=* -> role=(the input's value)"},
	} {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("%q, want %q", got, tt.want)
		}
	}
}
