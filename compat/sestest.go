// Package compat lets the ses binary stand in for the reference tools
// under their names: as `sestest` it speaks the reference test tool's
// verbs and flags, as `sesclient` the native test client's. Each verb is a
// thin translation onto the ses command that does the work. Both roots are
// cli.Dialects: names and enum values in any case, the usage after a usage
// error, messages that name only the dialect's flags (a flag's ses tag
// names the ses flags it stands for).
package compat

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/alecthomas/kong"
	"github.com/seskit/ses/certs"
	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/client"
	"github.com/seskit/ses/clientcmd"
	"github.com/seskit/ses/server"
	"github.com/seskit/ses/token"
	"github.com/seskit/ses/tool"
)

// ReferenceAPIVersion is the api-version the reference tools asked with:
// the first published one.
var ReferenceAPIVersion = tool.APIVersions[0].Name

// Sestest is the root of the `sestest` dialect.
type Sestest struct {
	cli.Globals

	Version kong.VersionFlag `help:"Print the version and exit." group:"global"`

	Generate         GenerateCmd         `cmd:"" help:"Generate a token."`
	Server           ServerCmd           `cmd:"" help:"Run the entitlement server emulator."`
	Verify           VerifyCmd           `cmd:"" help:"Ask a server to verify a token."`
	ListCertificates ListCertificatesCmd `cmd:"" name:"list-certificates" help:"List the certificates in the store."`
	FindCertificate  FindCertificateCmd  `cmd:"" name:"find-certificate" help:"Show one certificate by thumbprint."`
	Help             cli.HelpCmd         `cmd:"" help:"Show the help of sestest or of a command."`
	VersionCmd       cli.VersionCmd      `cmd:"" name:"version" help:"Print the version."`
}

// DefaultLogLevel is the reference's: information.
func (*Sestest) DefaultLogLevel() string { return "info" }

// GenerateCmd is `sestest generate`. Without --sign or --encrypt the token
// is unsigned or unencrypted, as with the reference.
type GenerateCmd struct {
	ApplicationID []string `name:"application-id" ses:"app" help:"Entitled application ids, comma-separated." placeholder:"APP"`
	VMID          string   `name:"vmid" help:"Virtual machine id." placeholder:"ID"`
	NotBefore     string   `help:"Start of validity: yyyy-MM-ddTHH:mm local time, or any time ses token takes (default: now)." placeholder:"TIME"`
	NotAfter      string   `help:"End of validity, as --not-before (default: 7 days after it)." placeholder:"TIME"`
	Address       []string `help:"Entitled addresses, comma-separated (default: this machine's)." placeholder:"IP"`
	Sign          string   `short:"s" default:"none" help:"Signing certificate: thumbprint, file, dev, or none (unsigned, the reference's default)." placeholder:"CERT"`
	Encrypt       string   `default:"none" help:"Encryption certificate: thumbprint, file, dev, or none (unencrypted, the reference's default)." placeholder:"CERT"`
	TokenFile     string   `short:"f" help:"Write the token to this file, as it is (no newline)." placeholder:"FILE"`
	Audience      string   `default:"${default_audience}" help:"Audience claim." placeholder:"URL"`
	Issuer        string   `default:"${default_issuer}" help:"Issuer claim." placeholder:"URL"`
}

// Run mints the token with `ses token`, reporting every problem with the
// flags at once, as the reference did. The token goes to stdout, or to
// --token-file as the reference wrote it (the token alone, no newline),
// the file named in the log.
func (c *GenerateCmd) Run(g *cli.Globals) error {
	t := token.EntitlementCmd{
		App: c.ApplicationID, Address: c.Address, VMID: c.VMID,
		NotBefore: c.NotBefore, NotAfter: c.NotAfter,
		Sign: c.Sign, Encrypt: c.Encrypt,
		Audience: c.Audience, Issuer: c.Issuer,
	}
	tok, err := t.Mint(g)
	if err != nil {
		return err
	}
	if c.TokenFile == "" {
		_, err := fmt.Fprintln(g.Stdout, tok)
		return err
	}
	file, err := filepath.Abs(c.TokenFile)
	if err != nil {
		return cli.Usagef("--token-file: %v", err)
	}
	if err := tool.WriteFileAtomic(file, []byte(tok), 0o600); err != nil {
		return cli.Usagef("--token-file: %v", err)
	}
	g.Log.Info().Str("file", file).Msg("token written")
	return nil
}

// ServerCmd is `sestest server`.
type ServerCmd struct {
	Connection       string `help:"TLS certificate: thumbprint, file or dev (required)." placeholder:"CERT"`
	URL              string `default:"https://localhost:4443" help:"Where to listen." placeholder:"URL"`
	Sign             string `default:"none" help:"Certificate tokens must be signed with: thumbprint, file, dev, or none (unsigned, the reference's default)." placeholder:"CERT"`
	Encrypt          string `default:"none" help:"Certificate tokens must be encrypted to: thumbprint, file, dev, or none (unencrypted, the reference's default)." placeholder:"CERT"`
	Audience         string `default:"${default_audience}" help:"Audience tokens must carry." placeholder:"URL"`
	Issuer           string `default:"${default_issuer}" help:"Issuer tokens must carry." placeholder:"URL"`
	ExitAfterRequest bool   `help:"Exit after the first request."`
}

// Run serves with `ses server`, which reports every problem with the
// address and the certificates at once (a missing --connection among
// them), as the reference did.
func (c *ServerCmd) Run(g *cli.Globals) error {
	s := server.Cmd{
		URL: c.URL, Connection: c.Connection, KeyFlags: cli.KeyFlags{Sign: c.Sign, Encrypt: c.Encrypt},
		Audience: c.Audience, Issuer: c.Issuer, ExitAfterRequest: c.ExitAfterRequest,
		MaxLease: server.DefaultMaxLease, MaxLeasesPerToken: server.DefaultMaxLeasesPerToken,
	}
	return s.Run(g)
}

// VerifyCmd is `sestest verify`: it asks a server, as a task would.
type VerifyCmd struct {
	Token      string `help:"The token (default: $AZ_BATCH_SOFTWARE_ENTITLEMENT_TOKEN)." placeholder:"TOKEN"`
	App        string `help:"Application id (required)." placeholder:"APP"`
	Server     string `ses:"url" help:"The server (default: $AZ_BATCH_ACCOUNT_URL)." placeholder:"URL"`
	APIVersion string `default:"${default_ref_api}" help:"api-version to ask with." placeholder:"VERSION"`
}

// Run checks with `ses client`, once every input is there (the missing
// ones are reported together, as the reference did). A server on this
// machine (localhost, 127.0.0.1, ::1) is trusted through the store's
// development PKI, as `ses client --dev` does; any other must pass the
// Batch rules.
func (c *VerifyCmd) Run(g *cli.Globals) error {
	check := clientcmd.CheckCmd{TokenFlags: clientcmd.TokenFlags{App: c.App, Token: c.Token}}
	check.URL, check.APIVersion = c.Server, c.APIVersion
	check.Retries, check.Timeout = client.DefaultRetries, client.DefaultTimeout
	if check.URL == "" {
		check.URL = g.Getenv(client.EnvURL)
	}
	var errs []error
	if strings.TrimSpace(check.URL) == "" {
		errs = append(errs, cli.Usagef("no server given").Hint("pass --server URL, or set %s", client.EnvURL))
	}
	if c.Token == "" && strings.TrimSpace(g.Getenv(client.EnvToken)) == "" {
		errs = append(errs, cli.Usagef("no token given").Hint("pass --token TOKEN, or set %s", client.EnvToken))
	}
	if strings.TrimSpace(c.App) == "" {
		errs = append(errs, cli.Usagef("no application given").Hint("name it with --app APP"))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if u, err := url.Parse(check.URL); err == nil && isLoopback(u.Hostname()) {
		check.Dev = true
	}
	return check.Run(g)
}

func isLoopback(host string) bool {
	for _, h := range tool.DevHosts {
		if strings.EqualFold(host, h) {
			return true
		}
	}
	return false
}

// ListCertificatesCmd is `sestest list-certificates`.
type ListCertificatesCmd struct {
	Show         string   `default:"nonexpired" enum:"nonexpired,forsigning,forencrypting,forserverauth,expired,all" help:"Which certificates: nonexpired, forsigning, forencrypting, forserverauth, expired or all."`
	ExtraColumns []string `help:"More columns: subjectname, friendlyname (comma-separated)." placeholder:"COLUMN"`
}

// Run lists with `ses certs list`, plus the reference's extra columns.
func (c *ListCertificatesCmd) Run(g *cli.Globals, store *tool.Store) error {
	extra := cli.List(c.ExtraColumns)
	for _, col := range extra {
		switch strings.ToLower(col) {
		case "subjectname", "friendlyname":
		default:
			return cli.Usagef("--extra-columns %q: want subjectname or friendlyname", col)
		}
	}
	return certs.Listing{Show: c.Show, Extra: extra}.Write(g, store)
}

// FindCertificateCmd is `sestest find-certificate`.
type FindCertificateCmd struct {
	Thumbprint string `required:"" help:"The thumbprint to find (40 hex digits), or a certificate file." placeholder:"THUMBPRINT"`
}

// Run shows the certificate with `ses certs show`. What is neither a file
// nor a thumbprint is refused saying what a thumbprint is.
func (c *FindCertificateCmd) Run(g *cli.Globals, store *tool.Store) error {
	if _, err := os.Stat(c.Thumbprint); err != nil && !strings.EqualFold(strings.TrimSpace(c.Thumbprint), "dev") {
		if _, err := tool.ParseThumbprint(c.Thumbprint); err != nil {
			return cli.Usagef("--thumbprint: %v", err).Hint("`sestest list-certificates --show all` lists the thumbprints")
		}
	}
	s := certs.ShowCmd{Cert: c.Thumbprint}
	return s.Run(g, store)
}
