// Package verify implements `ses verify`: it opens a token offline and
// explains every check it passed or failed.
package verify

import "github.com/seskit/ses/cli"

// Cmd is `ses verify`.
type Cmd struct {
	Token     string   `arg:"" optional:"" help:"The token, or - to read it from stdin (default: --token-file, else $AZ_BATCH_SOFTWARE_ENTITLEMENT_TOKEN)."`
	TokenFile string   `help:"Read the token from this file." type:"path" placeholder:"FILE"`
	Sign      string   `help:"Certificate tokens must be signed with, as the server uses it (none: unsigned)." default:"dev" placeholder:"CERT"`
	Encrypt   string   `help:"Certificate tokens must be encrypted to, as the server uses it (none: unencrypted)." default:"dev" placeholder:"CERT"`
	App       string   `help:"Check that the token entitles this application." placeholder:"APP"`
	Address   string   `help:"Check that the token entitles this address." placeholder:"IP"`
	Audience  string   `help:"Expected audience." placeholder:"URL"`
	Issuer    string   `help:"Expected issuer." placeholder:"URL"`
	At        string   `help:"Judge the token as of this time (RFC 3339, yyyy-MM-ddTHH:mm, a date, or +2h/-1d from now)." placeholder:"TIME"`
	Key       []string `help:"Simple Web Token: an HMAC-SHA256 key (base64); give the current and then the previous key." placeholder:"KEY"`
	JSON      bool     `help:"Print the explanation as JSON."`
}

// Run runs the command.
func (c *Cmd) Run(g *cli.Globals) error { return cli.Usagef("ses verify: not built yet") }
