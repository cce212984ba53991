package acs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/seskit/ses/tool"
	"go.yaml.in/yaml/v3"
)

// File is a namespace file opened for editing. It holds the file's YAML
// tree, so that a change keeps the comments, the order and the blank lines
// of the rest; a JSON file stays JSON. Save checks the result as `ses
// server --acs` does and writes it atomically.
type File struct {
	path   string
	read   []byte // the file's bytes when opened; nil for a new file
	layout []byte // the text whose blank lines the output keeps
	doc    yaml.Node
	json   bool
	indent int
}

// DefaultNamespaceURL is the URL a new namespace gets unless told another.
const DefaultNamespaceURL = "https://ses-acs.localhost/"

// newFileText is a new namespace file; %s is its URL.
const newFileText = `# A service namespace for ` + "`ses server --acs`" + `: who may ask for tokens, how
# tokens are signed, and which claims each scope grants. Edit it with
# ` + "`ses namespace`" + ` or by hand.

# The namespace's own URL: the Issuer of every token it issues.
issuer: %s

# Issuers that may ask for tokens: by name and key (the password profile),
# or with an SWT assertion signed with their key. previousKey allows a
# key rollover.
issuers: []

# Token policies: how long issued tokens live and the key that signs them.
tokenPolicies: []

# Scopes: the URL a token applies to (its Audience), the policy, and rules
# mapping an input claim (issuer, type, value) to an output claim.
scopes: []
`

// NewFile returns a new namespace for path, with the namespace URL
// issuerURL and nothing else; Save writes it, replacing any file there.
func NewFile(path, issuerURL string) (*File, error) {
	u, err := yaml.Marshal(issuerURL)
	if err != nil {
		return nil, err
	}
	text := fmt.Sprintf(newFileText, strings.TrimSpace(string(u)))
	f := &File{path: path, layout: []byte(text), indent: 2}
	if err := yaml.Unmarshal([]byte(text), &f.doc); err != nil {
		return nil, err
	}
	return f, nil
}

// OpenFile reads a namespace file for editing. The file need only be
// YAML (or JSON) with a mapping at the top: a change may be what makes it
// valid again.
func OpenFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseFile(path, data)
}

// parseFile reads the bytes of the namespace file path for editing.
func parseFile(path string, data []byte) (*File, error) {
	f := &File{path: path, read: data, layout: data, indent: indentOf(data)}
	f.json = bytes.HasPrefix(bytes.TrimSpace(data), []byte("{"))
	if err := yaml.Unmarshal(data, &f.doc); err != nil {
		return nil, fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(f.doc.Content) == 0 || f.doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: line 1: the namespace file must hold a mapping (issuer, issuers, tokenPolicies, scopes)", path)
	}
	return f, nil
}

// Path is the file's path.
func (f *File) Path() string { return f.path }

// indentOf guesses the indentation a YAML text uses: that of its first
// indented line, 2 when there is none.
func indentOf(data []byte) int {
	for _, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimLeft(line, " ")
		if n := len(line) - len(trimmed); n > 0 && trimmed != "" && trimmed[0] != '#' {
			if n >= 2 && n <= 8 {
				return n
			}
			break
		}
	}
	return 2
}

// Bytes is the file's text after the changes, if the namespace it holds
// is valid; otherwise the error is the one `ses server --acs` would give.
func (f *File) Bytes() ([]byte, error) {
	out, err := f.encode()
	if err != nil {
		return nil, err
	}
	if _, err := Parse(out); err != nil {
		return nil, &InvalidError{Err: err}
	}
	return out, nil
}

// InvalidError is a change that would leave a namespace `ses server --acs`
// refuses; Err says why, with the line and field.
type InvalidError struct{ Err error }

func (e *InvalidError) Error() string { return "the namespace would not load: " + e.Err.Error() }
func (e *InvalidError) Unwrap() error { return e.Err }

// Save writes the changed file atomically, refusing an invalid namespace
// and a file that changed on disk since it was opened.
func (f *File) Save() error {
	out, err := f.Bytes()
	if err != nil {
		return err
	}
	path := f.path
	perm := os.FileMode(0o600) // it holds keys
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	if fi, err := os.Stat(path); err == nil {
		perm = fi.Mode().Perm()
	}
	if f.read != nil {
		if now, err := os.ReadFile(path); err != nil || !bytes.Equal(now, f.read) {
			return fmt.Errorf("%s changed while it was being edited; nothing was written: run the command again", f.path)
		}
	}
	if err := tool.WriteFileAtomic(path, out, perm); err != nil {
		return err
	}
	f.read, f.layout = out, out
	return nil
}

// encode writes the tree back: YAML with the original's blank lines and
// indentation, or indented JSON.
func (f *File) encode() ([]byte, error) {
	if f.json {
		var b bytes.Buffer
		if err := jsonNode(&b, &f.doc); err != nil {
			return nil, err
		}
		var out bytes.Buffer
		if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
			return nil, err
		}
		out.WriteByte('\n')
		return out.Bytes(), nil
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(f.indent)
	if err := enc.Encode(&f.doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return keepBlankLines(f.layout, b.Bytes()), nil
}

// jsonNode writes a YAML tree as compact JSON, mappings in their order.
func jsonNode(b *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			b.WriteString("null")
			return nil
		}
		return jsonNode(b, n.Content[0])
	case yaml.AliasNode:
		return jsonNode(b, n.Alias)
	case yaml.MappingNode, yaml.SequenceNode:
		open, close, step := byte('['), byte(']'), 1
		if n.Kind == yaml.MappingNode {
			open, close, step = '{', '}', 2
		}
		b.WriteByte(open)
		for i := 0; i+step-1 < len(n.Content); i += step {
			if i > 0 {
				b.WriteByte(',')
			}
			if step == 2 {
				k, _ := json.Marshal(n.Content[i].Value)
				b.Write(k)
				b.WriteByte(':')
			}
			if err := jsonNode(b, n.Content[i+step-1]); err != nil {
				return err
			}
		}
		b.WriteByte(close)
		return nil
	}
	var v any = n.Value
	if n.ShortTag() != "!!str" {
		if err := n.Decode(&v); err != nil {
			return err
		}
	}
	out, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("line %d: %v", n.Line, err)
	}
	b.Write(out)
	return nil
}

// keepBlankLines puts back into out, before each line that it shares with
// layout, the blank lines that came before that line in layout (the YAML
// encoder drops them). Shared lines are found as a longest common
// subsequence; for very long files, only the common head and tail count.
func keepBlankLines(layout, out []byte) []byte {
	type line struct {
		text   string
		blanks int
	}
	var a []line
	blanks := 0
	for _, l := range strings.Split(strings.TrimRight(string(layout), "\n"), "\n") {
		if strings.TrimSpace(l) == "" {
			blanks++
			continue
		}
		a = append(a, line{l, blanks})
		blanks = 0
	}
	var b []string
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if strings.TrimSpace(l) != "" {
			b = append(b, l)
		}
	}
	before := make([]int, len(b)) // blank lines to write before b[j]
	n, m := len(a), len(b)
	if n*m <= 1<<22 {
		// lcs[i][j] is the LCS length of a[i:] and b[j:].
		lcs := make([][]uint16, n+1)
		for i := range lcs {
			lcs[i] = make([]uint16, m+1)
		}
		for i := n - 1; i >= 0; i-- {
			for j := m - 1; j >= 0; j-- {
				if a[i].text == b[j] {
					lcs[i][j] = lcs[i+1][j+1] + 1
				} else {
					lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
				}
			}
		}
		for i, j := 0, 0; i < n && j < m; {
			switch {
			case a[i].text == b[j]:
				before[j] = a[i].blanks
				i, j = i+1, j+1
			case lcs[i+1][j] >= lcs[i][j+1]:
				i++
			default:
				j++
			}
		}
	} else {
		for i := 0; i < n && i < m && a[i].text == b[i]; i++ {
			before[i] = a[i].blanks
		}
		for i, j := n-1, m-1; i >= 0 && j >= 0 && a[i].text == b[j]; i, j = i-1, j-1 {
			before[j] = a[i].blanks
		}
	}
	var w strings.Builder
	for j, l := range b {
		if j > 0 {
			w.WriteString(strings.Repeat("\n", before[j]))
		}
		w.WriteString(l)
		w.WriteByte('\n')
	}
	return []byte(w.String())
}

// The views of a file's content, as written in it.

// Issuer is an issuer: its name, its current key and its previous one.
type Issuer struct {
	Name, Key, PreviousKey string
	Line                   int
}

// Policy is a token policy.
type Policy struct {
	Name, Lifetime, Key, PreviousKey string
	Line                             int
}

// Scope is a scope and its rules.
type Scope struct {
	AppliesTo, TokenPolicy string
	Rules                  []Rule
	Line                   int
}

// content decodes the file as --acs does, without checking it.
func (f *File) content() (*Config, error) {
	var c Config
	if err := f.doc.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %s", f.path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return &c, nil
}

// URL is the namespace's URL as the file gives it.
func (f *File) URL() (string, error) {
	c, err := f.content()
	if err != nil {
		return "", err
	}
	return c.Issuer.V, nil
}

// Issuers lists the file's issuers in order.
func (f *File) Issuers() ([]Issuer, error) {
	c, err := f.content()
	if err != nil {
		return nil, err
	}
	var out []Issuer
	for _, ic := range c.Issuers {
		out = append(out, Issuer{Name: ic.Name.V, Key: ic.Key.V, PreviousKey: ic.PreviousKey.V, Line: ic.Line})
	}
	return out, nil
}

// Policies lists the file's token policies in order.
func (f *File) Policies() ([]Policy, error) {
	c, err := f.content()
	if err != nil {
		return nil, err
	}
	var out []Policy
	for _, pc := range c.TokenPolicies {
		out = append(out, Policy{Name: pc.Name.V, Lifetime: pc.Lifetime.V, Key: pc.Key.V, PreviousKey: pc.PreviousKey.V, Line: pc.Line})
	}
	return out, nil
}

// Scopes lists the file's scopes and their rules in order.
func (f *File) Scopes() ([]Scope, error) {
	c, err := f.content()
	if err != nil {
		return nil, err
	}
	var out []Scope
	for _, sc := range c.Scopes {
		s := Scope{AppliesTo: sc.AppliesTo.V, TokenPolicy: sc.TokenPolicy.V, Line: sc.Line}
		for _, rc := range sc.Rules {
			s.Rules = append(s.Rules, Rule{Line: rc.Line, Issuer: rc.Input.Issuer.V, InputType: rc.Input.Type.V, InputValue: rc.Input.Value.V,
				OutputType: rc.Output.Type.V, OutputValue: rc.Output.Value.V, PassThrough: rc.PassThrough})
		}
		out = append(out, s)
	}
	return out, nil
}

// Section is one of the file's named lists whose entries have keys.
type Section string

// The sections with keys.
const (
	Issuers  Section = "issuers"
	Policies Section = "tokenPolicies"
)

func (s Section) noun() string {
	if s == Policies {
		return "token policy"
	}
	return "issuer"
}

// NotFoundError is a name or a URL the file does not have.
type NotFoundError struct {
	What, Name string
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("no %s named %q", e.What, e.Name) }

// ExistsError is a name or a URL the file has already.
type ExistsError struct {
	What, Name string
}

func (e *ExistsError) Error() string { return fmt.Sprintf("%s %q exists already", e.What, e.Name) }

// InUseError is something that cannot go while others name it.
type InUseError struct {
	What, Name string
	By         []string
}

func (e *InUseError) Error() string {
	return fmt.Sprintf("%s %q is used by %s", e.What, e.Name, strings.Join(e.By, ", "))
}

// ErrPreviousKey is a rollover that would drop a previous key still in
// force.
var ErrPreviousKey = errors.New("it still has a previous key, which the rollover would drop")

// ErrNoPreviousKey is a retirement with nothing to retire.
var ErrNoPreviousKey = errors.New("it has no previous key")

// checkKey refuses a key the namespace would refuse.
func checkKey(key string) error {
	_, err := tool.ParseSWTSigningKey(key)
	return err
}

// AddIssuer appends an issuer with its key.
func (f *File) AddIssuer(name, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	return f.addKeyed(Issuers, name, "name", name, "key", key)
}

// AddPolicy appends a token policy: its tokens' lifetime and its key.
func (f *File) AddPolicy(name string, lifetime time.Duration, key string) error {
	if lifetime <= 0 {
		return fmt.Errorf("the lifetime %s is not positive", tool.FormatDuration(lifetime))
	}
	if err := checkKey(key); err != nil {
		return err
	}
	return f.addKeyed(Policies, name, "name", name, "lifetime", tool.FormatDuration(lifetime), "key", key)
}

func (f *File) addKeyed(sec Section, name string, fields ...string) error {
	if name == "" {
		return fmt.Errorf("the %s needs a name", sec.noun())
	}
	seq, err := f.list(string(sec), true)
	if err != nil {
		return err
	}
	if _, item := find(seq, "name", name); item != nil {
		return &ExistsError{What: sec.noun(), Name: name}
	}
	seq.Content = append(seq.Content, mapping(fields...))
	return nil
}

// Remove takes an issuer or a token policy out, unless a rule or a scope
// names it.
func (f *File) Remove(sec Section, name string) error {
	seq, item, err := f.keyed(sec, name)
	if err != nil {
		return err
	}
	scopes, err := f.Scopes()
	if err != nil {
		return err
	}
	var by []string
	for _, s := range scopes {
		if sec == Policies && s.TokenPolicy == name {
			by = append(by, "scope "+s.AppliesTo)
		}
		for i, r := range s.Rules {
			if sec == Issuers && r.Issuer == name {
				by = append(by, fmt.Sprintf("rule %d of scope %s", i+1, s.AppliesTo))
			}
		}
	}
	if len(by) > 0 {
		return &InUseError{What: sec.noun(), Name: name, By: by}
	}
	seq.Content = remove(seq.Content, item)
	return nil
}

// Rollover makes key the current key of an issuer or a policy, and its
// current key the previous one, which stays valid until Retire. An
// existing previous key is dropped only with force. A current key the
// namespace refuses (shorter than tool.MinSWTKeySize) is not kept.
func (f *File) Rollover(sec Section, name, key string, force bool) error {
	if err := checkKey(key); err != nil {
		return err
	}
	_, item, err := f.keyed(sec, name)
	if err != nil {
		return err
	}
	if get(item, "previousKey") != nil && !force {
		return fmt.Errorf("%s %q: %w", sec.noun(), name, ErrPreviousKey)
	}
	switch cur := get(item, "key"); {
	case cur != nil && checkKey(cur.Value) == nil:
		set(item, "previousKey", cur.Value)
	case cur != nil:
		// A key the namespace refuses (too short) is replaced, not kept.
		del(item, "previousKey")
	}
	set(item, "key", key)
	return nil
}

// Retire drops the previous key of an issuer or a policy: what it signed
// or authenticated stops working.
func (f *File) Retire(sec Section, name string) error {
	_, item, err := f.keyed(sec, name)
	if err != nil {
		return err
	}
	if !del(item, "previousKey") {
		return fmt.Errorf("%s %q: %w", sec.noun(), name, ErrNoPreviousKey)
	}
	return nil
}

func (f *File) keyed(sec Section, name string) (seq, item *yaml.Node, err error) {
	seq, err = f.list(string(sec), false)
	if err != nil {
		return nil, nil, err
	}
	if seq != nil {
		_, item = find(seq, "name", name)
	}
	if item == nil {
		return nil, nil, &NotFoundError{What: sec.noun(), Name: name}
	}
	return seq, item, nil
}

// AddScope appends a scope for appliesTo with a token policy.
func (f *File) AddScope(appliesTo, policy string) error {
	if _, _, err := f.keyed(Policies, policy); err != nil {
		return err
	}
	seq, err := f.list("scopes", true)
	if err != nil {
		return err
	}
	if _, item := find(seq, "appliesTo", appliesTo); item != nil {
		return &ExistsError{What: "scope", Name: appliesTo}
	}
	seq.Content = append(seq.Content, mapping("appliesTo", appliesTo, "tokenPolicy", policy))
	return nil
}

// RemoveScope takes a scope and its rules out.
func (f *File) RemoveScope(appliesTo string) error {
	seq, item, err := f.scope(appliesTo)
	if err != nil {
		return err
	}
	seq.Content = remove(seq.Content, item)
	return nil
}

func (f *File) scope(appliesTo string) (seq, item *yaml.Node, err error) {
	seq, err = f.list("scopes", false)
	if err != nil {
		return nil, nil, err
	}
	if seq != nil {
		_, item = find(seq, "appliesTo", appliesTo)
	}
	if item == nil {
		return nil, nil, &NotFoundError{What: "scope", Name: appliesTo}
	}
	return seq, item, nil
}

// AddRule appends a rule to a scope and returns its number there.
func (f *File) AddRule(appliesTo string, r Rule) (int, error) {
	if _, _, err := f.keyed(Issuers, r.Issuer); err != nil {
		return 0, err
	}
	_, item, err := f.scope(appliesTo)
	if err != nil {
		return 0, err
	}
	rules := get(item, "rules")
	if rules == nil {
		item.Content = append(item.Content, scalar("rules"), &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"})
		rules = item.Content[len(item.Content)-1]
	}
	if err := makeList(rules, "rules"); err != nil {
		return 0, err
	}
	in := mapping("issuer", r.Issuer, "type", r.InputType, "value", r.InputValue)
	in.Style = yaml.FlowStyle
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{scalar("input"), in}}
	if r.OutputType != "" || r.OutputValue != "" {
		out := mapping("type", r.OutputType, "value", r.OutputValue)
		out.Style = yaml.FlowStyle
		n.Content = append(n.Content, scalar("output"), out)
	}
	if r.PassThrough {
		n.Content = append(n.Content, scalar("passThrough"), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
	}
	rules.Content = append(rules.Content, n)
	return len(rules.Content), nil
}

// RemoveRule takes the rule numbered n (from 1) out of a scope.
func (f *File) RemoveRule(appliesTo string, n int) error {
	_, item, err := f.scope(appliesTo)
	if err != nil {
		return err
	}
	rules := get(item, "rules")
	if rules == nil || rules.Kind != yaml.SequenceNode || n < 1 || n > len(rules.Content) {
		count := 0
		if rules != nil && rules.Kind == yaml.SequenceNode {
			count = len(rules.Content)
		}
		return fmt.Errorf("scope %s has no rule %d (it has %d)", appliesTo, n, count)
	}
	rules.Content = remove(rules.Content, rules.Content[n-1])
	return nil
}

// sectionOrder is the order of the top-level fields in a new file.
var sectionOrder = []string{"issuer", "issuers", "tokenPolicies", "scopes"}

// list returns the top-level sequence name; with create, one is made
// (in the usual place) when the file has none.
func (f *File) list(name string, create bool) (*yaml.Node, error) {
	root := f.doc.Content[0]
	if n := get(root, name); n != nil {
		if create {
			if err := makeList(n, name); err != nil {
				return nil, err
			}
		}
		if n.Kind != yaml.SequenceNode {
			return nil, nil
		}
		return n, nil
	}
	if !create {
		return nil, nil
	}
	seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	at := len(root.Content)
	rank := func(k string) int {
		for i, s := range sectionOrder {
			if s == k {
				return i
			}
		}
		return len(sectionOrder)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if rank(root.Content[i].Value) > rank(name) {
			at = i
			break
		}
	}
	root.Content = append(root.Content[:at], append([]*yaml.Node{scalar(name), seq}, root.Content[at:]...)...)
	return seq, nil
}

// makeList turns an empty value (null, or []) into a block sequence ready
// for items, keeping its comments.
func makeList(n *yaml.Node, name string) error {
	switch {
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null":
		n.Kind, n.Tag, n.Value = yaml.SequenceNode, "!!seq", ""
	case n.Kind != yaml.SequenceNode:
		return fmt.Errorf("line %d: %s: want a list", n.Line, name)
	}
	if len(n.Content) == 0 {
		n.Style = 0
	}
	return nil
}

// find returns the index and the mapping in seq whose field has value.
func find(seq *yaml.Node, field, value string) (int, *yaml.Node) {
	for i, item := range seq.Content {
		if v := get(item, field); v != nil && v.Value == value {
			return i, item
		}
	}
	return -1, nil
}

// get returns the value of key in mapping m, nil when absent.
func get(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// set gives key the string value in mapping m, in place when it is there
// (keeping its comments), else at the end.
func set(m *yaml.Node, key, value string) {
	if v := get(m, key); v != nil {
		*v = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value, LineComment: v.LineComment, HeadComment: v.HeadComment, FootComment: v.FootComment}
		return
	}
	m.Content = append(m.Content, scalar(key), scalar(value))
}

// del removes key from mapping m and reports whether it was there.
func del(m *yaml.Node, key string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return true
		}
	}
	return false
}

// remove drops item from nodes.
func remove(nodes []*yaml.Node, item *yaml.Node) []*yaml.Node {
	for i, n := range nodes {
		if n == item {
			return append(nodes[:i:i], nodes[i+1:]...)
		}
	}
	return nodes
}

func scalar(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }

// mapping builds a mapping of string fields, leaving out empty values.
func mapping(kv ...string) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			m.Content = append(m.Content, scalar(kv[i]), scalar(kv[i+1]))
		}
	}
	return m
}
