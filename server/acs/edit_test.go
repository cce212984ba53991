package acs

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/seskit/ses/tool"
)

const newKey = "Bq6fRC1pJ2bYV0cYx1tkQdH0VQw7rJ4r0m6w6Gx9Q0E="

// edited opens a copy of the test namespace, applies change and returns
// the resulting text.
func edited(t *testing.T, change func(f *File) error) (string, error) {
	t.Helper()
	data, err := os.ReadFile("testdata/namespace.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ns.yaml")
	if err := os.WriteFile(path, data, 0o640); err != nil {
		t.Fatal(err)
	}
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := change(f); err != nil {
		return "", err
	}
	if err := f.Save(); err != nil {
		return "", err
	}
	out, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v after the edit, want the file's own 0640", fi.Mode().Perm())
	}
	return string(out), nil
}

// TestEdits: each change alters exactly its lines; the rest of the file,
// comments and blank lines included, is as it was.
func TestEdits(t *testing.T) {
	orig, err := os.ReadFile("testdata/namespace.yaml")
	if err != nil {
		t.Fatal(err)
	}
	o := string(orig)
	replace := func(from, to string) string {
		if !strings.Contains(o, from) {
			t.Fatalf("test namespace lacks %q", from)
		}
		return strings.Replace(o, from, to, 1)
	}
	tests := []struct {
		name   string
		change func(f *File) error
		want   string
	}{
		{"nothing", func(f *File) error { return nil }, o},
		{"add an issuer", func(f *File) error { return f.AddIssuer("reporter", newKey) },
			replace("previousKey: AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\n",
				"previousKey: AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\n  - name: reporter\n    key: "+newKey+"\n")},
		{"roll an issuer's key over", func(f *File) error { return f.Rollover(Issuers, "buildagent", newKey, false) },
			replace("key: zOT21KxyIjvk299o2cIlU987B3/3KbH/cZf0W8DNO0Q=\n",
				"key: "+newKey+"\n    previousKey: zOT21KxyIjvk299o2cIlU987B3/3KbH/cZf0W8DNO0Q=\n")},
		{"retire an issuer's previous key", func(f *File) error { return f.Retire(Issuers, "partner") },
			replace("    previousKey: AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\n", "")},
		{"roll over with force", func(f *File) error { return f.Rollover(Issuers, "partner", newKey, true) },
			replace("key: 3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n    previousKey: AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\n",
				"key: "+newKey+"\n    previousKey: 3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")},
		{"add a policy", func(f *File) error { return f.AddPolicy("reports", 10*time.Minute, newKey) },
			replace("key: q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\n",
				"key: q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\n  - name: reports\n    lifetime: 10m\n    key: "+newKey+"\n")},
		{"roll a policy's key over", func(f *File) error { return f.Rollover(Policies, "admin", newKey, false) },
			replace("key: q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\n",
				"key: "+newKey+"\n    previousKey: q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\n")},
		{"add a scope and rules", func(f *File) error {
			if err := f.AddScope("https://localhost/reverser", "admin"); err != nil {
				return err
			}
			if n, err := f.AddRule("https://localhost/reverser", Rule{Issuer: "buildagent", InputType: "Issuer", InputValue: "buildagent", OutputType: "action", OutputValue: "reverse"}); err != nil || n != 1 {
				return fmt.Errorf("rule %d: %v", n, err)
			}
			_, err := f.AddRule("https://localhost/reverser", Rule{Issuer: "partner", InputType: "group", PassThrough: true})
			return err
		}, o + "  - appliesTo: https://localhost/reverser\n    tokenPolicy: admin\n    rules:\n" +
			"      - input: {issuer: buildagent, type: Issuer, value: buildagent}\n        output: {type: action, value: reverse}\n" +
			"      - input: {issuer: partner, type: group}\n        passThrough: true\n"},
		{"remove a rule", func(f *File) error { return f.RemoveRule(adminScope, 2) },
			replace("      # The partner's assertion claims pass through as they are.\n      - input: {issuer: partner, type: group}\n        passThrough: true\n", "")},
		{"remove an issuer no rule names", func(f *File) error {
			if err := f.RemoveRule(adminScope, 1); err != nil {
				return err
			}
			return f.Remove(Issuers, "buildagent")
		}, strings.Replace(strings.Replace(o, "  - name: buildagent\n    key: zOT21KxyIjvk299o2cIlU987B3/3KbH/cZf0W8DNO0Q=\n", "", 1),
			"      # The build agent, by password, may manage the emulator.\n      - input: {issuer: buildagent, type: Issuer, value: buildagent}\n        output: {type: action, value: Manage}\n", "", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := edited(t, tt.change)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestEditsRefused: a change the namespace would not take is refused with
// a typed error, and the file is left alone.
func TestEditsRefused(t *testing.T) {
	var notFound *NotFoundError
	var exists *ExistsError
	var inUse *InUseError
	var short *tool.ShortKeyError
	tests := []struct {
		name   string
		change func(f *File) error
		is     func(error) bool
	}{
		{"issuer twice", func(f *File) error { return f.AddIssuer("partner", newKey) }, func(e error) bool { return errors.As(e, &exists) }},
		{"short issuer key", func(f *File) error { return f.AddIssuer("x", "AQID") }, func(e error) bool { return errors.As(e, &short) }},
		{"short rollover key", func(f *File) error { return f.Rollover(Policies, "admin", "AQID", false) }, func(e error) bool { return errors.As(e, &short) }},
		{"lifetime not positive", func(f *File) error { return f.AddPolicy("p", -time.Minute, newKey) }, func(e error) bool { return e != nil && strings.Contains(e.Error(), "not positive") }},
		{"remove an issuer a rule names", func(f *File) error { return f.Remove(Issuers, "partner") },
			func(e error) bool {
				return errors.As(e, &inUse) && strings.Contains(e.Error(), "rule 2 of scope "+adminScope)
			}},
		{"remove a policy a scope uses", func(f *File) error { return f.Remove(Policies, "admin") }, func(e error) bool { return errors.As(e, &inUse) }},
		{"remove an unknown issuer", func(f *File) error { return f.Remove(Issuers, "nobody") }, func(e error) bool { return errors.As(e, &notFound) }},
		{"rollover over a previous key", func(f *File) error { return f.Rollover(Issuers, "partner", newKey, false) }, func(e error) bool { return errors.Is(e, ErrPreviousKey) }},
		{"retire nothing", func(f *File) error { return f.Retire(Issuers, "buildagent") }, func(e error) bool { return errors.Is(e, ErrNoPreviousKey) }},
		{"scope with an unknown policy", func(f *File) error { return f.AddScope("https://x/", "nosuch") }, func(e error) bool { return errors.As(e, &notFound) }},
		{"scope twice", func(f *File) error { return f.AddScope(adminScope, "admin") }, func(e error) bool { return errors.As(e, &exists) }},
		{"rule for an unknown issuer", func(f *File) error {
			_, err := f.AddRule(adminScope, Rule{Issuer: "stranger", InputType: "Issuer", OutputType: "a", OutputValue: "b"})
			return err
		}, func(e error) bool { return errors.As(e, &notFound) }},
		{"rule for an unknown scope", func(f *File) error {
			_, err := f.AddRule("https://x/", Rule{Issuer: "partner", InputType: "Issuer", OutputType: "a", OutputValue: "b"})
			return err
		}, func(e error) bool { return errors.As(e, &notFound) }},
		{"rule without an output: refused as --acs refuses it", func(f *File) error {
			_, err := f.AddRule(adminScope, Rule{Issuer: "partner", InputType: "Issuer"})
			return err
		}, func(e error) bool {
			return e != nil && strings.Contains(e.Error(), "the namespace would not load: line 37: rules.output: a rule needs an output type and value")
		}},
		{"scope that is not a URL", func(f *File) error { return f.AddScope("reverser", "admin") }, func(e error) bool {
			return e != nil && strings.Contains(e.Error(), `scopes.appliesTo: want an absolute URL, got "reverser"`)
		}},
		{"no such rule", func(f *File) error { return f.RemoveRule(adminScope, 4) }, func(e error) bool { return e != nil && strings.Contains(e.Error(), "has no rule 4 (it has 3)") }},
	}
	orig, _ := os.ReadFile("testdata/namespace.yaml")
	for _, tt := range tests {
		path := filepath.Join(t.TempDir(), "ns.yaml")
		os.WriteFile(path, orig, 0o600)
		f, err := OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		err = tt.change(f)
		if err == nil {
			err = f.Save()
		}
		if !tt.is(err) {
			t.Errorf("%s: %v", tt.name, err)
		}
		if now, _ := os.ReadFile(path); string(now) != string(orig) {
			t.Errorf("%s: the file changed", tt.name)
		}
	}
}

// TestEditKeepsJSON: a JSON namespace stays JSON, in its order.
func TestEditKeepsJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ns.json")
	os.WriteFile(path, []byte(`{"issuer":"https://ns/","issuers":[],"tokenPolicies":[{"name":"p","lifetime":"PT10M","key":"`+policyKey+`"}],"scopes":[{"appliesTo":"https://x/admin","tokenPolicy":"p"}]}`), 0o600)
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.AddIssuer("a", newKey); err != nil {
		t.Fatal(err)
	}
	if _, err := f.AddRule("https://x/admin", Rule{Issuer: "a", InputType: "Issuer", InputValue: "a", OutputType: "action", OutputValue: "Manage"}); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := `{
  "issuer": "https://ns/",
  "issuers": [
    {
      "name": "a",
      "key": "` + newKey + `"
    }
  ],
  "tokenPolicies": [
    {
      "name": "p",
      "lifetime": "PT10M",
      "key": "` + policyKey + `"
    }
  ],
  "scopes": [
    {
      "appliesTo": "https://x/admin",
      "tokenPolicy": "p",
      "rules": [
        {
          "input": {
            "issuer": "a",
            "type": "Issuer",
            "value": "a"
          },
          "output": {
            "type": "action",
            "value": "Manage"
          }
        }
      ]
    }
  ]
}
`
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestNewFile: a new file is a valid, empty namespace that later changes
// fill in order, and a service reads it.
func TestNewFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ns.yaml")
	f, err := NewFile(path, "https://ns.example/")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("new file mode %v, want 0600", fi.Mode().Perm())
	}
	got, _ := os.ReadFile(path)
	if want := fmt.Sprintf(newFileText, "https://ns.example/"); string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	f, _ = OpenFile(path)
	steps := []func() error{
		func() error { return f.AddIssuer("client", agentKey) },
		func() error { return f.AddPolicy("p", time.Hour, policyKey) },
		func() error { return f.AddScope("https://localhost/reverser", "p") },
		func() error {
			_, err := f.AddRule("https://localhost/reverser", Rule{Issuer: "client", InputType: "Issuer", InputValue: "client", OutputType: "action", OutputValue: "reverse"})
			return err
		},
		f.Save,
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	got, _ = os.ReadFile(path)
	for _, want := range []string{"issuers:\n  - name: client\n", "tokenPolicies:\n  - name: p\n", "\n# Scopes: the URL", "scopes:\n  - appliesTo: https://localhost/reverser\n"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("no %q in\n%s", want, got)
		}
	}
	svc := NewService(mustLoad(t, path), Options{})
	if status, body, _ := wrap(t, svc, "10.0.0.1:1", map[string][]string{"wrap_name": {"client"}, "wrap_password": {agentKey}, "wrap_scope": {"https://localhost/reverser"}}); status != 200 {
		t.Errorf("WRAP with the new namespace: %d %s", status, body)
	}
}

// TestSaveRefusesAChangedFile: another writer's change is not overwritten.
func TestSaveRefusesAChangedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ns.yaml")
	orig, _ := os.ReadFile("testdata/namespace.yaml")
	os.WriteFile(path, orig, 0o600)
	f, _ := OpenFile(path)
	f.AddIssuer("x", newKey)
	other := strings.Replace(string(orig), "lifetime: 1h", "lifetime: 2h", 1)
	os.WriteFile(path, []byte(other), 0o600)
	if err := f.Save(); err == nil || !strings.Contains(err.Error(), "changed while it was being edited") {
		t.Errorf("Save over another change: %v", err)
	}
	if now, _ := os.ReadFile(path); string(now) != other {
		t.Errorf("the other change was overwritten")
	}
}

// TestPolicyRollover: after a rollover, tokens signed with the old key
// still pass the service's check until the key is retired; new tokens are
// signed with the new one.
func TestPolicyRollover(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ns.yaml")
	orig, _ := os.ReadFile("testdata/namespace.yaml")
	os.WriteFile(path, orig, 0o600)
	svc := NewService(mustLoad(t, path), Options{Path: path})
	oldTok := issueAdmin(t, svc)

	f, _ := OpenFile(path)
	if err := f.Rollover(Policies, "admin", newKey, false); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	if err := svc.Reload(); err != nil {
		t.Fatal(err)
	}
	newTok := issueAdmin(t, svc)
	if _, err := tool.VerifySWT(newTok, tool.SWTExpect{Keys: [][]byte{key(newKey)}, Now: time.Now()}); err != nil {
		t.Errorf("a token issued after the rollover is not signed with the new key: %v", err)
	}
	for name, tok := range map[string]string{"old": oldTok, "new": newTok} {
		if err := authorize(svc, tok); err != nil {
			t.Errorf("%s token during the rollover: %v", name, err)
		}
	}

	f, _ = OpenFile(path)
	if err := f.Retire(Policies, "admin"); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	if err := svc.Reload(); err != nil {
		t.Fatal(err)
	}
	if err := authorize(svc, oldTok); err == nil {
		t.Errorf("the old token passes after the previous key was retired")
	}
	if err := authorize(svc, newTok); err != nil {
		t.Errorf("new token after the retirement: %v", err)
	}
}

func issueAdmin(t *testing.T, svc *Service) string {
	t.Helper()
	a := svc.issue(passwordForm("buildagent", agentKey), "peer\x00test")
	if a.status != 200 {
		t.Fatalf("WRAP: %d %v", a.status, a.err)
	}
	return a.token
}

func authorize(svc *Service, tok string) error {
	r := httptest.NewRequest("GET", "/admin/leases", nil)
	r.Header.Set("Authorization", `WRAP access_token="`+tok+`"`)
	return svc.Authorize(r, adminScope, "Manage")
}

func TestKeepBlankLines(t *testing.T) {
	for _, tt := range []struct{ layout, out, want string }{
		{"a\n\nb\n", "a\nb\n", "a\n\nb\n"},
		{"a\n\n\nb\n\nc\n", "a\nx\nb\nc\n", "a\nx\n\n\nb\n\nc\n"},
		{"a\n\nb\n\nc\n", "a\nc\n", "a\n\nc\n"},
		{"", "a\nb\n", "a\nb\n"},
	} {
		if got := string(keepBlankLines([]byte(tt.layout), []byte(tt.out))); got != tt.want {
			t.Errorf("keepBlankLines(%q, %q) = %q, want %q", tt.layout, tt.out, got, tt.want)
		}
	}
}

// describe writes what a namespace holds, without lines, for comparing
// two readings of it.
func describe(ns *Namespace) string {
	var b strings.Builder
	fmt.Fprintf(&b, "url %s\n", ns.issuerURL)
	var names []string
	for n := range ns.issuers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "issuer %q %x\n", n, ns.issuers[n].keys)
	}
	for _, s := range ns.scopes {
		fmt.Fprintf(&b, "scope %q policy %q %s %x\n", s.appliesTo, s.policy.name, s.policy.lifetime, s.policy.keys)
		for _, r := range s.rules {
			r.Line = 0
			fmt.Fprintf(&b, "  %#v\n", r)
		}
	}
	return b.String()
}

// FuzzEdit: reading any text as a namespace never panics, and writing a
// valid namespace back without a change gives the same namespace.
func FuzzEdit(f *testing.F) {
	orig, _ := os.ReadFile("testdata/namespace.yaml")
	f.Add(string(orig))
	f.Add(`{"issuer":"https://ns/","tokenPolicies":[{"name":"p","key":"` + policyKey + `"}],"scopes":[{"appliesTo":"https://x/admin","tokenPolicy":"p"}]}`)
	f.Add("issuer: https://ns/\nissuers:\n- name: a\n  key: " + agentKey + "\n\n\nscopes: []\n")
	f.Add("issuer: &u https://ns/\nscopes: *u\n")
	f.Fuzz(func(t *testing.T, text string) {
		ns, err := Parse([]byte(text))
		file, ferr := parseFile("ns.yaml", []byte(text))
		if err != nil || ferr != nil {
			return
		}
		out, err := file.Bytes()
		if err != nil {
			t.Fatalf("a valid namespace, written back, does not load: %v\n%s", err, out)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := describe(ns), describe(again); a != b {
			t.Fatalf("written back, the namespace changed:\n%s\nbecame\n%s", a, b)
		}
	})
}
