package namespace

import (
	"fmt"
	"time"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/server/acs"
	"github.com/seskit/ses/tool"
)

// PolicyCmd is `ses namespace policy`.
type PolicyCmd struct {
	Add      PolicyAddCmd      `cmd:"" help:"Add a token policy and print its signing key: generated, unless --key gives it."`
	List     PolicyListCmd     `cmd:"" help:"List the token policies."`
	Show     PolicyShowCmd     `cmd:"" help:"Show a token policy and its keys."`
	Remove   PolicyRemoveCmd   `cmd:"" help:"Remove a token policy no scope uses."`
	Rollover PolicyRolloverCmd `cmd:"" help:"Sign with a new key from now on and print it; tokens signed with the old key pass as the previous key until retired."`
	Retire   PolicyRetireCmd   `cmd:"" help:"Retire a policy's previous key: the tokens it signed stop passing."`
}

// PolicyAddCmd is `ses namespace policy add`.
type PolicyAddCmd struct {
	FileFlag
	Name     string        `arg:"" help:"The policy's name."`
	Lifetime time.Duration `help:"How long issued tokens live (default: ${default})." default:"${default_ns_lifetime}"`
	Key      string        `help:"The signing key, base64 of at least 32 bytes (default: a new one)." placeholder:"KEY"`
}

// Run adds the policy and prints its key.
func (c *PolicyAddCmd) Run(g *cli.Globals) error {
	key := newKey(c.Key)
	if err := c.edit(func(f *acs.File) error { return f.AddPolicy(c.Name, c.Lifetime, key) }); err != nil {
		return err
	}
	_, err := fmt.Fprintln(g.Stdout, key)
	return err
}

// PolicyListCmd is `ses namespace policy list`.
type PolicyListCmd struct {
	FileFlag
}

// Run prints one policy a line, without its keys.
func (c *PolicyListCmd) Run(g *cli.Globals) error {
	f, err := c.open()
	if err != nil {
		return err
	}
	policies, err := f.Policies()
	if err != nil {
		return c.refused(err)
	}
	tw := table(g.Stdout)
	for _, p := range policies {
		fmt.Fprintf(tw, "%s\tlifetime %s\t%s\n", p.Name, lifetime(p.Lifetime), keyState(p.Key, p.PreviousKey))
	}
	return tw.Flush()
}

// lifetime is a policy's lifetime as written, or the default.
func lifetime(s string) string {
	if s == "" {
		return tool.FormatDuration(acs.DefaultLifetime) + " (default)"
	}
	return s
}

// PolicyShowCmd is `ses namespace policy show`.
type PolicyShowCmd struct {
	FileFlag
	Name string `arg:"" help:"The policy's name."`
	Keys bool   `help:"Print only the keys, current first, one a line: the key file of a service that checks the tokens."`
}

// Run prints the policy.
func (c *PolicyShowCmd) Run(g *cli.Globals) error {
	f, err := c.open()
	if err != nil {
		return err
	}
	policies, err := f.Policies()
	if err != nil {
		return c.refused(err)
	}
	for _, p := range policies {
		if p.Name == c.Name {
			return showKeyed(g.Stdout, c.Keys, [][2]string{{"name", p.Name}, {"line", fmt.Sprint(p.Line)},
				{"lifetime", lifetime(p.Lifetime)}, {"key", p.Key}, {"previous key", p.PreviousKey}}, p.Key, p.PreviousKey)
		}
	}
	return c.notFound("token policy", c.Name)
}

// PolicyRemoveCmd is `ses namespace policy remove`.
type PolicyRemoveCmd struct {
	FileFlag
	Name string `arg:"" help:"The policy's name."`
}

// Run removes the policy.
func (c *PolicyRemoveCmd) Run() error {
	return c.edit(func(f *acs.File) error { return f.Remove(acs.Policies, c.Name) })
}

// PolicyRolloverCmd is `ses namespace policy rollover`.
type PolicyRolloverCmd struct {
	FileFlag
	Name  string `arg:"" help:"The policy's name."`
	Key   string `help:"The new key, base64 of at least 32 bytes (default: a new one)." placeholder:"KEY"`
	Force bool   `help:"Drop the previous key if there is one."`
}

// Run rolls the key over and prints the new one.
func (c *PolicyRolloverCmd) Run(g *cli.Globals) error {
	key := newKey(c.Key)
	if err := c.edit(func(f *acs.File) error { return f.Rollover(acs.Policies, c.Name, key, c.Force) }); err != nil {
		return err
	}
	_, err := fmt.Fprintln(g.Stdout, key)
	return err
}

// PolicyRetireCmd is `ses namespace policy retire`.
type PolicyRetireCmd struct {
	FileFlag
	Name string `arg:"" help:"The policy's name."`
}

// Run drops the previous key.
func (c *PolicyRetireCmd) Run() error {
	return c.edit(func(f *acs.File) error { return f.Retire(acs.Policies, c.Name) })
}
