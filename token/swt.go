package token

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/tool"
)

// SWTCmd is `ses token swt`: a Simple Web Token signed with HMAC-SHA256.
type SWTCmd struct {
	NewKey   bool          `help:"Print a new key (base64 of 32 random bytes) and exit."`
	Key      string        `help:"Signing key, base64." placeholder:"KEY"`
	Issuer   string        `help:"Issuer claim." placeholder:"URL"`
	Audience string        `help:"Audience claim." placeholder:"URL"`
	Lifetime time.Duration `help:"Validity from now, e.g. 1h, 20m, 1d." default:"${default_swt_lifetime}"`
	Claim    []string      `help:"Claim name=value (repeatable; a repeated name collects its values)." placeholder:"NAME=VALUE"`
}

// Run prints the token, or a key with --new-key.
func (c *SWTCmd) Run(g *cli.Globals) error {
	if c.NewKey {
		_, err := fmt.Fprintln(g.Stdout, tool.NewSWTKey())
		return err
	}
	if c.Key == "" {
		return cli.Usagef("no signing key").Hint("pass --key KEY; `ses token swt --new-key` makes one")
	}
	key, err := tool.ParseSWTSigningKey(c.Key)
	var short *tool.ShortKeyError
	if errors.As(err, &short) {
		return cli.Usagef("--key: %v", err).Hint("`ses token swt --new-key` makes a key of 32 random bytes")
	}
	if err != nil {
		return cli.Usagef("--key: %v", err)
	}
	s := tool.SWT{Issuer: c.Issuer, Audience: c.Audience, ExpiresOn: g.Now().Add(c.Lifetime).Truncate(time.Second)}
	for _, kv := range c.Claim {
		name, value, ok := strings.Cut(kv, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return cli.Usagef("--claim %q: want name=value", kv)
		}
		switch name {
		case tool.SWTIssuer, tool.SWTAudience, tool.SWTExpiresOn, tool.SWTHMAC:
			return cli.Usagef("--claim %s: a reserved name", name).Hint("use --issuer, --audience and --lifetime")
		}
		if i := claimIndex(s.Claims, name); i >= 0 {
			s.Claims[i].Values = append(s.Claims[i].Values, value)
		} else {
			s.Claims = append(s.Claims, tool.SWTClaim{Name: name, Values: []string{value}})
		}
	}
	_, err = fmt.Fprintln(g.Stdout, tool.SignSWT(s, key))
	return err
}

func claimIndex(claims []tool.SWTClaim, name string) int {
	for i, c := range claims {
		if c.Name == name {
			return i
		}
	}
	return -1
}
