package namespace

import (
	"fmt"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/server/acs"
)

// IssuerCmd is `ses namespace issuer`.
type IssuerCmd struct {
	Add      IssuerAddCmd      `cmd:"" help:"Add an issuer and print its key (its password): generated, unless --key gives it."`
	List     IssuerListCmd     `cmd:"" help:"List the issuers."`
	Show     IssuerShowCmd     `cmd:"" help:"Show an issuer and its keys."`
	Remove   IssuerRemoveCmd   `cmd:"" help:"Remove an issuer no rule names."`
	Rollover IssuerRolloverCmd `cmd:"" help:"Give an issuer a new key and print it; the old key works on as the previous key until retired."`
	Retire   IssuerRetireCmd   `cmd:"" help:"Retire an issuer's previous key: it stops working."`
}

// IssuerAddCmd is `ses namespace issuer add`.
type IssuerAddCmd struct {
	FileFlag
	Name string `arg:"" help:"The issuer's name (wrap_name, or the Issuer of its assertions)."`
	Key  string `help:"The issuer's key, base64 of at least 32 bytes (default: a new one)." placeholder:"KEY"`
}

// Run adds the issuer and prints its key.
func (c *IssuerAddCmd) Run(g *cli.Globals) error {
	key := newKey(c.Key)
	if err := c.edit(func(f *acs.File) error { return f.AddIssuer(c.Name, key) }); err != nil {
		return err
	}
	_, err := fmt.Fprintln(g.Stdout, key)
	return err
}

// IssuerListCmd is `ses namespace issuer list`.
type IssuerListCmd struct {
	FileFlag
}

// Run prints one issuer a line, without its keys.
func (c *IssuerListCmd) Run(g *cli.Globals) error {
	f, err := c.open()
	if err != nil {
		return err
	}
	issuers, err := f.Issuers()
	if err != nil {
		return c.refused(err)
	}
	tw := table(g.Stdout)
	for _, is := range issuers {
		fmt.Fprintf(tw, "%s\t%s\n", is.Name, keyState(is.Key, is.PreviousKey))
	}
	return tw.Flush()
}

// IssuerShowCmd is `ses namespace issuer show`.
type IssuerShowCmd struct {
	FileFlag
	Name string `arg:"" help:"The issuer's name."`
	Keys bool   `help:"Print only the keys, current first, one a line."`
}

// Run prints the issuer.
func (c *IssuerShowCmd) Run(g *cli.Globals) error {
	f, err := c.open()
	if err != nil {
		return err
	}
	issuers, err := f.Issuers()
	if err != nil {
		return c.refused(err)
	}
	for _, is := range issuers {
		if is.Name == c.Name {
			return showKeyed(g.Stdout, c.Keys, [][2]string{{"name", is.Name}, {"line", fmt.Sprint(is.Line)},
				{"key", is.Key}, {"previous key", is.PreviousKey}}, is.Key, is.PreviousKey)
		}
	}
	return c.notFound("issuer", c.Name)
}

// IssuerRemoveCmd is `ses namespace issuer remove`.
type IssuerRemoveCmd struct {
	FileFlag
	Name string `arg:"" help:"The issuer's name."`
}

// Run removes the issuer.
func (c *IssuerRemoveCmd) Run() error {
	return c.edit(func(f *acs.File) error { return f.Remove(acs.Issuers, c.Name) })
}

// IssuerRolloverCmd is `ses namespace issuer rollover`.
type IssuerRolloverCmd struct {
	FileFlag
	Name  string `arg:"" help:"The issuer's name."`
	Key   string `help:"The new key, base64 of at least 32 bytes (default: a new one)." placeholder:"KEY"`
	Force bool   `help:"Drop the previous key if there is one."`
}

// Run rolls the key over and prints the new one.
func (c *IssuerRolloverCmd) Run(g *cli.Globals) error {
	key := newKey(c.Key)
	if err := c.edit(func(f *acs.File) error { return f.Rollover(acs.Issuers, c.Name, key, c.Force) }); err != nil {
		return err
	}
	_, err := fmt.Fprintln(g.Stdout, key)
	return err
}

// IssuerRetireCmd is `ses namespace issuer retire`.
type IssuerRetireCmd struct {
	FileFlag
	Name string `arg:"" help:"The issuer's name."`
}

// Run drops the previous key.
func (c *IssuerRetireCmd) Run() error {
	return c.edit(func(f *acs.File) error { return f.Retire(acs.Issuers, c.Name) })
}
