// Package acs is the Access Control Service model of ses: a service
// namespace of issuers, token policies and scopes with rules, a WRAP v0.9
// token endpoint that issues Simple Web Tokens by those rules, and the check
// of such tokens on a protected API.
package acs

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/seskit/ses/tool"
	"go.yaml.in/yaml/v3"
)

// Config is a namespace file, YAML or JSON.
type Config struct {
	// Issuer is the namespace's own URL, written into every token.
	Issuer        pos[string]    `yaml:"issuer"`
	Issuers       []IssuerConfig `yaml:"issuers"`
	TokenPolicies []PolicyConfig `yaml:"tokenPolicies"`
	Scopes        []ScopeConfig  `yaml:"scopes"`
}

// IssuerConfig is a trusted issuer: a name and its keys.
type IssuerConfig struct {
	Line        int         `yaml:"-"`
	Name        pos[string] `yaml:"name"`
	Key         pos[string] `yaml:"key"`
	PreviousKey pos[string] `yaml:"previousKey"`
}

// PolicyConfig is a token policy: how long tokens live and the key that
// signs them.
type PolicyConfig struct {
	Line        int         `yaml:"-"`
	Name        pos[string] `yaml:"name"`
	Lifetime    pos[string] `yaml:"lifetime"`
	Key         pos[string] `yaml:"key"`
	PreviousKey pos[string] `yaml:"previousKey"`
}

// ScopeConfig is a relying party: the URL tokens apply to, its policy and
// its rules.
type ScopeConfig struct {
	Line        int          `yaml:"-"`
	AppliesTo   pos[string]  `yaml:"appliesTo"`
	TokenPolicy pos[string]  `yaml:"tokenPolicy"`
	Rules       []RuleConfig `yaml:"rules"`
}

// RuleConfig maps an input claim to an output claim. With PassThrough the
// input's value is copied (under Output.Type when given).
type RuleConfig struct {
	Line        int         `yaml:"-"`
	Input       ClaimConfig `yaml:"input"`
	Output      ClaimConfig `yaml:"output"`
	PassThrough bool        `yaml:"passThrough"`
}

// ClaimConfig names a claim; an empty or "*" value matches any.
type ClaimConfig struct {
	Issuer pos[string] `yaml:"issuer"`
	Type   pos[string] `yaml:"type"`
	Value  pos[string] `yaml:"value"`
}

// pos is a value with the line it was read from, for errors.
type pos[T any] struct {
	V    T
	Line int
}

func (p *pos[T]) UnmarshalYAML(n *yaml.Node) error {
	p.Line = n.Line
	return n.Decode(&p.V)
}

// UnmarshalYAML refuses fields a namespace does not have, an empty one
// included (the decoder's own check lets that one by).
func (c *Config) UnmarshalYAML(n *yaml.Node) error {
	type plain Config
	return decodeStrict(n, (*plain)(c), "issuer", "issuers", "tokenPolicies", "scopes")
}

// The list items record their line so that a missing field can be placed.
func (c *IssuerConfig) UnmarshalYAML(n *yaml.Node) error {
	type plain IssuerConfig
	c.Line = n.Line
	return decodeStrict(n, (*plain)(c), "name", "key", "previousKey")
}

func (c *PolicyConfig) UnmarshalYAML(n *yaml.Node) error {
	type plain PolicyConfig
	c.Line = n.Line
	return decodeStrict(n, (*plain)(c), "name", "lifetime", "key", "previousKey")
}

func (c *ScopeConfig) UnmarshalYAML(n *yaml.Node) error {
	type plain ScopeConfig
	c.Line = n.Line
	return decodeStrict(n, (*plain)(c), "appliesTo", "tokenPolicy", "rules")
}

func (c *RuleConfig) UnmarshalYAML(n *yaml.Node) error {
	type plain RuleConfig
	c.Line = n.Line
	return decodeStrict(n, (*plain)(c), "input", "output", "passThrough")
}

// decodeStrict decodes a mapping, refusing fields the type does not have
// (Node.Decode alone would ignore them), with the lines of the file.
func decodeStrict(n *yaml.Node, v any, fields ...string) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: want a mapping", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !slices.Contains(fields, k.Value) {
			return fmt.Errorf("line %d: field %s not found (want one of %s)", k.Line, k.Value, strings.Join(fields, ", "))
		}
	}
	return n.Decode(v)
}

// Load reads and checks a namespace file.
func Load(path string) (*Namespace, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ns, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ns, nil
}

// Parse reads and checks a namespace from YAML or JSON.
func Parse(data []byte) (*Namespace, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("the namespace file is empty")
		}
		return nil, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	ns, err := c.compile()
	if err != nil {
		return nil, err
	}
	ns.sum = sha256.Sum256(data)
	return ns, nil
}

// configError places a problem at a line and a field.
func configError(line int, field string, err error) error {
	return fmt.Errorf("line %d: %s: %w", line, field, err)
}

// configErrorf is configError with a formatted message.
func configErrorf(line int, field, format string, args ...any) error {
	return configError(line, field, fmt.Errorf(format, args...))
}

// keyField is one key field of an issuer or a token policy.
type keyField struct {
	field string
	v     pos[string]
	need  bool
}

// keys decodes the current and the previous key of an issuer or a policy
// named name, the current one required.
func keys(line int, name string, fields ...keyField) ([][]byte, error) {
	var out [][]byte
	for _, k := range fields {
		if k.v.V == "" {
			if k.need {
				return nil, configErrorf(line, k.field, "missing for %q", name)
			}
			continue
		}
		key, err := tool.ParseSWTSigningKey(k.v.V)
		if err != nil {
			return nil, configError(k.v.Line, k.field, err)
		}
		out = append(out, key)
	}
	return out, nil
}

func (c *Config) compile() (*Namespace, error) {
	ns := &Namespace{issuers: map[string]*issuer{}}
	if c.Issuer.V == "" {
		return nil, configErrorf(1, "issuer", "the namespace's issuer URL is missing")
	}
	if u, err := url.Parse(c.Issuer.V); err != nil || u.Scheme == "" || u.Host == "" {
		return nil, configErrorf(c.Issuer.Line, "issuer", "want an absolute URL, got %q", c.Issuer.V)
	}
	ns.issuerURL = c.Issuer.V
	for _, ic := range c.Issuers {
		if ic.Name.V == "" {
			return nil, configErrorf(ic.Line, "issuers.name", "missing")
		}
		if ns.issuers[ic.Name.V] != nil {
			return nil, configErrorf(ic.Name.Line, "issuers.name", "issuer %q is defined twice", ic.Name.V)
		}
		ks, err := keys(ic.Line, ic.Name.V, keyField{"issuers.key", ic.Key, true}, keyField{"issuers.previousKey", ic.PreviousKey, false})
		if err != nil {
			return nil, err
		}
		ns.issuers[ic.Name.V] = &issuer{name: ic.Name.V, keys: ks}
	}
	policies := map[string]*policy{}
	for _, pc := range c.TokenPolicies {
		if pc.Name.V == "" {
			return nil, configErrorf(pc.Line, "tokenPolicies.name", "missing")
		}
		if policies[pc.Name.V] != nil {
			return nil, configErrorf(pc.Name.Line, "tokenPolicies.name", "token policy %q is defined twice", pc.Name.V)
		}
		p := &policy{name: pc.Name.V, lifetime: DefaultLifetime}
		if pc.Lifetime.V != "" {
			d, err := ParseLifetime(pc.Lifetime.V)
			if err != nil {
				return nil, configError(pc.Lifetime.Line, "tokenPolicies.lifetime", err)
			}
			p.lifetime = d
		}
		ks, err := keys(pc.Line, pc.Name.V, keyField{"tokenPolicies.key", pc.Key, true}, keyField{"tokenPolicies.previousKey", pc.PreviousKey, false})
		if err != nil {
			return nil, err
		}
		p.keys = ks
		policies[p.name] = p
	}
	for _, sc := range c.Scopes {
		u, err := url.Parse(sc.AppliesTo.V)
		if sc.AppliesTo.V == "" || err != nil || u.Scheme == "" || u.Host == "" {
			return nil, configErrorf(sc.Line, "scopes.appliesTo", "want an absolute URL, got %q", sc.AppliesTo.V)
		}
		for _, other := range ns.scopes {
			if other.appliesTo == sc.AppliesTo.V {
				return nil, configErrorf(sc.AppliesTo.Line, "scopes.appliesTo", "scope %q is defined twice", sc.AppliesTo.V)
			}
		}
		p := policies[sc.TokenPolicy.V]
		if p == nil {
			line := sc.Line
			if sc.TokenPolicy.Line > 0 {
				line = sc.TokenPolicy.Line
			}
			return nil, configErrorf(line, "scopes.tokenPolicy", "no token policy named %q", sc.TokenPolicy.V)
		}
		s := &scope{appliesTo: sc.AppliesTo.V, url: u, policy: p}
		for _, rc := range sc.Rules {
			r := Rule{
				Line: rc.Line, Issuer: rc.Input.Issuer.V, InputType: rc.Input.Type.V, InputValue: rc.Input.Value.V,
				OutputType: rc.Output.Type.V, OutputValue: rc.Output.Value.V, PassThrough: rc.PassThrough,
			}
			switch {
			case r.Issuer == "":
				return nil, configErrorf(rc.Line, "rules.input.issuer", "missing")
			case ns.issuers[r.Issuer] == nil:
				return nil, configErrorf(rc.Input.Issuer.Line, "rules.input.issuer", "no issuer named %q", r.Issuer)
			case r.InputType == "":
				return nil, configErrorf(rc.Line, "rules.input.type", "missing")
			case !r.PassThrough && (r.OutputType == "" || r.OutputValue == ""):
				return nil, configErrorf(rc.Line, "rules.output", "a rule needs an output type and value, or passThrough: true")
			case r.PassThrough && r.OutputValue != "":
				return nil, configErrorf(rc.Output.Value.Line, "rules.output.value", "a passThrough rule copies the input's value: give no output value")
			}
			s.rules = append(s.rules, r)
		}
		ns.scopes = append(ns.scopes, s)
	}
	return ns, nil
}

// DefaultLifetime is how long tokens live when a policy says nothing.
const DefaultLifetime = time.Hour

// ParseLifetime reads a positive duration as the command line takes it:
// "1h", "20m", "1d", ISO 8601 "PT1H".
func ParseLifetime(s string) (time.Duration, error) {
	d, err := tool.ParseDuration(s)
	if err == nil && d <= 0 {
		err = fmt.Errorf("duration %q is not positive", s)
	}
	if err != nil {
		return 0, fmt.Errorf("%v (a duration is %s)", err, tool.DurationForms)
	}
	return d, nil
}
