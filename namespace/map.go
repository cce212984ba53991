package namespace

import (
	"errors"
	"fmt"
	"strings"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/server/acs"
	"github.com/seskit/ses/tool"
)

// MapCmd is `ses namespace map`: the claim mapper.
type MapCmd struct {
	FileFlag
	Scope  string   `required:"" help:"The URL a token is asked for (its wrap_scope)." placeholder:"URL"`
	Issuer string   `required:"" help:"The issuer the caller authenticates as: its wrap_name, or its assertion's Issuer." placeholder:"NAME"`
	Claim  []string `sep:"none" help:"A claim of the caller's SWT assertion, TYPE=VALUE (repeatable; several values comma-separated, as an SWT carries them). Without any: the password profile." placeholder:"TYPE=VALUE"`
	Mint   bool     `help:"Print the token the issuer would return (wrap_access_token), signed now, instead of the mapping."`
	Header bool     `help:"Print the token as an Authorization header value, WRAP access_token=\"...\" (implies --mint)."`
}

// Run prints the mapping, or the token.
func (c *MapCmd) Run(g *cli.Globals) error {
	var claims []tool.SWTClaim
	for _, kv := range c.Claim {
		name, value, ok := strings.Cut(kv, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return cli.Usagef("--claim %q: want TYPE=VALUE", kv)
		}
		switch name {
		case tool.SWTIssuer, tool.SWTAudience, tool.SWTExpiresOn, tool.SWTHMAC:
			return cli.Usagef("--claim %s: a reserved name of the SWT", name).Hint("the issuer is --issuer")
		}
		claims = append(claims, tool.SWTClaim{Name: name, Values: strings.Split(value, ",")})
	}
	ns, err := acs.Load(c.File)
	if err != nil {
		return cli.Usagef("--file: %v", err)
	}
	m, err := ns.Map(c.Scope, c.Issuer, claims)
	var noScope *acs.NoScopeError
	var noIssuer *acs.UnknownIssuerError
	switch {
	case errors.As(err, &noScope):
		return cli.Usagef("--scope: %v", err).Hint("`ses namespace scope list -f %s` lists the scopes", c.File)
	case errors.As(err, &noIssuer):
		return cli.Usagef("--issuer: %v", err).Hint("`ses namespace issuer list -f %s` lists the issuers", c.File)
	case err != nil:
		return cli.Usagef("%v", err)
	}
	if len(m.Grants) == 0 && (c.Mint || c.Header) {
		return c.noClaims(m)
	}
	if c.Mint || c.Header {
		token, _ := m.Mint(g.Now())
		if c.Header {
			_, err = fmt.Fprintln(g.Stdout, tool.WRAPAuthorization(token))
		} else {
			_, err = fmt.Fprintln(g.Stdout, token)
		}
		return err
	}
	tw := table(g.Stdout)
	fmt.Fprintf(tw, "scope\t%s\tpolicy %s, tokens live %s\n", m.AppliesTo, m.Policy, tool.FormatDuration(m.Lifetime))
	for _, in := range m.Inputs {
		fmt.Fprintf(tw, "input\t%s\tfrom %s\n", in, in.Issuer)
	}
	for _, gr := range m.Grants {
		fmt.Fprintf(tw, "output\t%s=%s\trule %d (line %d), from %s\n", gr.Type, gr.Value, gr.Rule, gr.RuleLine, gr.Input)
	}
	for _, ms := range m.Misses {
		fmt.Fprintf(tw, "no match\trule %d (line %d)\t%s\n", ms.Rule, ms.RuleLine, ms.Why)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(m.Grants) == 0 {
		return c.noClaims(m)
	}
	return nil
}

// noClaims is the answer when the rules give nothing: the issuer would
// refuse the caller.
func (c *MapCmd) noClaims(m *acs.Mapping) error {
	why := "the scope has no rules"
	if len(m.Misses) > 0 {
		why = "no rule matches"
	}
	return cli.WithCode(cli.ExitNo, fmt.Errorf("no output claims for this caller: %s, so the issuer would answer 401", why))
}
