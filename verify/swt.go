package verify

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/tool"
)

// explainSWT explains a Simple Web Token as Run explains an entitlement
// token.
func (c *Cmd) explainSWT(g *cli.Globals, raw string, at time.Time) error {
	want := tool.SWTExpect{Issuer: c.Issuer, Audience: c.Audience, Now: at}
	for _, k := range c.Key {
		key, err := tool.ParseSWTKey(k)
		if err != nil {
			return cli.Usagef("--key: %v", err)
		}
		want.Keys = append(want.Keys, key)
	}
	if len(want.Keys) == 0 {
		return cli.Usagef("a Simple Web Token needs its key to be checked").Hint("pass --key KEY (and the previous key with a second --key)")
	}
	s, rep := tool.ExplainSWT(raw, want)
	if c.JSON {
		out := struct {
			Valid     bool        `json:"valid"`
			Kind      string      `json:"kind"`
			Issuer    string      `json:"issuer,omitempty"`
			Audience  string      `json:"audience,omitempty"`
			ExpiresOn *time.Time  `json:"expiresOn,omitempty"`
			Claims    []claimJSON `json:"claims,omitempty"`
			Checks    []jsonCheck `json:"checks"`
		}{Valid: rep.Err() == nil, Kind: "swt", Checks: checksJSON(rep)}
		if s != nil {
			out.Issuer, out.Audience = s.Issuer, s.Audience
			if !s.ExpiresOn.IsZero() {
				out.ExpiresOn = &s.ExpiresOn
			}
			for _, cl := range s.Claims {
				out.Claims = append(out.Claims, claimJSON{cl.Name, cl.Values})
			}
		}
		if err := encodeJSON(g.Stdout, out); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(g.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "kind\tSimple Web Token (HMAC-SHA256)\n")
		if s != nil {
			p := tool.Printable // the claims come from the token
			fmt.Fprintf(tw, "\nclaims\n")
			fmt.Fprintf(tw, "  %s\t%s\n", tool.SWTIssuer, p(tool.OrNone(s.Issuer)))
			fmt.Fprintf(tw, "  %s\t%s\n", tool.SWTAudience, p(tool.OrNone(s.Audience)))
			if !s.ExpiresOn.IsZero() {
				fmt.Fprintf(tw, "  %s\t%s (%s)\n", tool.SWTExpiresOn, s.ExpiresOn.UTC().Format(time.RFC3339), relative(s.ExpiresOn, at))
			}
			for _, cl := range s.Claims {
				fmt.Fprintf(tw, "  %s\t%s\n", p(cl.Name), p(strings.Join(cl.Values, ", ")))
			}
		}
		writeChecks(tw, rep, at)
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if err := rep.Err(); err != nil {
		return &cli.Error{Code: cli.ExitNo, Err: fmt.Errorf("token is not valid: %w", err)}
	}
	return nil
}

type claimJSON struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}
