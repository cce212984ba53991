package namespace

import (
	"fmt"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/server/acs"
)

// RuleCmd is `ses namespace rule`.
type RuleCmd struct {
	Add    RuleAddCmd    `cmd:"" help:"Add a rule to a scope: an input claim from an issuer gives an output claim."`
	List   RuleListCmd   `cmd:"" help:"List a scope's rules, numbered."`
	Remove RuleRemoveCmd `cmd:"" help:"Remove a scope's rule by its number."`
}

// RuleAddCmd is `ses namespace rule add`.
type RuleAddCmd struct {
	FileFlag
	Scope       string `required:"" help:"The scope's URL." placeholder:"URL"`
	InputIssuer string `required:"" help:"The issuer the input claim must come from." placeholder:"NAME"`
	InputType   string `required:"" help:"The input claim's type: Issuer for the issuer itself (the password profile), or a claim of its assertions." placeholder:"TYPE"`
	InputValue  string `help:"The input claim's value (default: any)." placeholder:"VALUE"`
	OutputType  string `help:"The output claim's type." placeholder:"TYPE"`
	OutputValue string `help:"The output claim's value." placeholder:"VALUE"`
	PassThrough bool   `help:"Copy the input claim's value (under --output-type when given) instead of --output-value."`
}

// Run adds the rule and prints its number.
func (c *RuleAddCmd) Run(g *cli.Globals) error {
	r := acs.Rule{Issuer: c.InputIssuer, InputType: c.InputType, InputValue: c.InputValue,
		OutputType: c.OutputType, OutputValue: c.OutputValue, PassThrough: c.PassThrough}
	switch {
	case c.PassThrough && c.OutputValue != "":
		return cli.Usagef("--pass-through copies the input's value: give no --output-value")
	case !c.PassThrough && (c.OutputType == "" || c.OutputValue == ""):
		return cli.Usagef("a rule needs --output-type and --output-value, or --pass-through")
	}
	var n int
	err := c.edit(func(f *acs.File) (err error) {
		n, err = f.AddRule(c.Scope, r)
		return err
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(g.Stdout, "rule %d: %s\n", n, r)
	return err
}

// RuleListCmd is `ses namespace rule list`.
type RuleListCmd struct {
	FileFlag
	Scope string `required:"" help:"The scope's URL." placeholder:"URL"`
}

// Run prints the rules.
func (c *RuleListCmd) Run(g *cli.Globals) error {
	s, err := c.find(c.Scope)
	if err != nil {
		return err
	}
	return listRules(g.Stdout, s.Rules)
}

// RuleRemoveCmd is `ses namespace rule remove`.
type RuleRemoveCmd struct {
	FileFlag
	Scope  string `required:"" help:"The scope's URL." placeholder:"URL"`
	Number int    `arg:"" help:"The rule's number, as rule list shows it."`
}

// Run removes the rule.
func (c *RuleRemoveCmd) Run() error {
	return c.edit(func(f *acs.File) error { return f.RemoveRule(c.Scope, c.Number) })
}
