package namespace

import (
	"fmt"
	"io"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/server/acs"
)

// ScopeCmd is `ses namespace scope`.
type ScopeCmd struct {
	Add    ScopeAddCmd    `cmd:"" help:"Add a scope: the URL tokens apply to (their Audience) and its token policy."`
	List   ScopeListCmd   `cmd:"" help:"List the scopes."`
	Show   ScopeShowCmd   `cmd:"" help:"Show a scope and its rules."`
	Remove ScopeRemoveCmd `cmd:"" help:"Remove a scope and its rules."`
}

// ScopeAddCmd is `ses namespace scope add`.
type ScopeAddCmd struct {
	FileFlag
	AppliesTo string `arg:"" name:"url" help:"The URL tokens apply to: the protected service's."`
	Policy    string `required:"" help:"The token policy that signs the scope's tokens." placeholder:"NAME"`
}

// Run adds the scope.
func (c *ScopeAddCmd) Run() error {
	return c.edit(func(f *acs.File) error { return f.AddScope(c.AppliesTo, c.Policy) })
}

// ScopeListCmd is `ses namespace scope list`.
type ScopeListCmd struct {
	FileFlag
}

// Run prints one scope a line.
func (c *ScopeListCmd) Run(g *cli.Globals) error {
	f, err := c.open()
	if err != nil {
		return err
	}
	scopes, err := f.Scopes()
	if err != nil {
		return c.refused(err)
	}
	tw := table(g.Stdout)
	for _, s := range scopes {
		fmt.Fprintf(tw, "%s\tpolicy %s\t%d rules\n", s.AppliesTo, s.TokenPolicy, len(s.Rules))
	}
	return tw.Flush()
}

// ScopeShowCmd is `ses namespace scope show`.
type ScopeShowCmd struct {
	FileFlag
	AppliesTo string `arg:"" name:"url" help:"The scope's URL."`
}

// Run prints the scope and its rules.
func (c *ScopeShowCmd) Run(g *cli.Globals) error {
	s, err := c.find(c.AppliesTo)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "appliesTo    %s\ntokenPolicy  %s\n", s.AppliesTo, s.TokenPolicy)
	if len(s.Rules) > 0 {
		fmt.Fprintln(g.Stdout, "rules")
	}
	return listRules(g.Stdout, s.Rules)
}

// find returns the scope for appliesTo.
func (f FileFlag) find(appliesTo string) (*acs.Scope, error) {
	file, err := f.open()
	if err != nil {
		return nil, err
	}
	scopes, err := file.Scopes()
	if err != nil {
		return nil, f.refused(err)
	}
	for _, s := range scopes {
		if s.AppliesTo == appliesTo {
			return &s, nil
		}
	}
	return nil, f.notFound("scope", appliesTo)
}

// listRules prints rules numbered from 1, with their lines.
func listRules(w io.Writer, rules []acs.Rule) error {
	tw := table(w)
	for i, r := range rules {
		fmt.Fprintf(tw, "  %d\tline %d\t%s\n", i+1, r.Line, r)
	}
	return tw.Flush()
}

// ScopeRemoveCmd is `ses namespace scope remove`.
type ScopeRemoveCmd struct {
	FileFlag
	AppliesTo string `arg:"" name:"url" help:"The scope's URL."`
}

// Run removes the scope.
func (c *ScopeRemoveCmd) Run() error {
	return c.edit(func(f *acs.File) error { return f.RemoveScope(c.AppliesTo) })
}
