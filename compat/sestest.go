// Package compat lets the ses binary stand in for the reference tools
// under their names: as `sestest` it speaks the reference test tool's
// verbs and flags, as `sesclient` the native test client's. Each verb is a
// thin translation onto the ses command that does the work.
package compat

import (
	"net/url"
	"strings"

	"github.com/seskit/ses/certs"
	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/client"
	"github.com/seskit/ses/clientcmd"
	"github.com/seskit/ses/server"
	"github.com/seskit/ses/token"
	"github.com/seskit/ses/tool"
)

// Sestest is the root of the `sestest` dialect.
type Sestest struct {
	cli.Globals

	Generate         GenerateCmd         `cmd:"" help:"Generate a token."`
	Server           ServerCmd           `cmd:"" help:"Run the entitlement server emulator."`
	Verify           VerifyCmd           `cmd:"" help:"Ask a server to verify a token."`
	ListCertificates ListCertificatesCmd `cmd:"" name:"list-certificates" help:"List the certificates in the store."`
	FindCertificate  FindCertificateCmd  `cmd:"" name:"find-certificate" help:"Show one certificate by thumbprint."`
}

// GenerateCmd is `sestest generate`. Without --sign or --encrypt the token
// is unsigned or unencrypted, as with the reference.
type GenerateCmd struct {
	ApplicationID []string `name:"application-id" help:"Entitled application ids, comma-separated."`
	VMID          string   `name:"vmid" help:"Virtual machine id."`
	NotBefore     string   `help:"Start of validity, yyyy-MM-ddTHH:mm local time (default: now)."`
	NotAfter      string   `help:"End of validity, yyyy-MM-ddTHH:mm local time (default: 7 days)."`
	Address       []string `help:"Entitled addresses, comma-separated (default: this machine's)."`
	Sign          string   `default:"none" help:"Signing certificate: thumbprint, file, dev, or none (unsigned, the reference's default)."`
	Encrypt       string   `default:"none" help:"Encryption certificate: thumbprint, file, dev, or none (unencrypted, the reference's default)."`
	TokenFile     string   `short:"f" help:"Write the token to this file."`
	Audience      string   `default:"${default_audience}" help:"Audience claim."`
	Issuer        string   `default:"${default_issuer}" help:"Issuer claim."`
}

// Run mints the token with `ses token`.
func (c *GenerateCmd) Run(g *cli.Globals) error {
	t := token.EntitlementCmd{
		App: c.ApplicationID, Address: c.Address, VMID: c.VMID,
		NotBefore: c.NotBefore, NotAfter: c.NotAfter,
		Sign: c.Sign, Encrypt: c.Encrypt,
		Audience: c.Audience, Issuer: c.Issuer, TokenFile: c.TokenFile,
	}
	return t.Run(g)
}

// ServerCmd is `sestest server`.
type ServerCmd struct {
	Connection       string `required:"" help:"TLS certificate: thumbprint, file or dev."`
	URL              string `default:"https://localhost:4443" help:"Where to listen."`
	Sign             string `default:"none" help:"Certificate tokens must be signed with: thumbprint, file, dev, or none (unsigned, the reference's default)."`
	Encrypt          string `default:"none" help:"Certificate tokens must be encrypted to: thumbprint, file, dev, or none (unencrypted, the reference's default)."`
	Audience         string `default:"${default_audience}" help:"Audience tokens must carry."`
	Issuer           string `default:"${default_issuer}" help:"Issuer tokens must carry."`
	ExitAfterRequest bool   `help:"Exit after the first request."`
}

// Run serves with `ses server`.
func (c *ServerCmd) Run(g *cli.Globals) error {
	s := server.Cmd{
		URL: c.URL, Connection: c.Connection, KeyFlags: cli.KeyFlags{Sign: c.Sign, Encrypt: c.Encrypt},
		Audience: c.Audience, Issuer: c.Issuer, ExitAfterRequest: c.ExitAfterRequest,
		MaxLease: server.DefaultMaxLease,
	}
	return s.Run(g)
}

// VerifyCmd is `sestest verify`: it asks a server, as a task would.
type VerifyCmd struct {
	Token      string `help:"The token (default: $AZ_BATCH_SOFTWARE_ENTITLEMENT_TOKEN)."`
	App        string `required:"" help:"Application id."`
	Server     string `help:"The server (default: $AZ_BATCH_ACCOUNT_URL)."`
	APIVersion string `default:"${default_api_version}" help:"api-version to ask with."`
}

// Run checks with `ses client`. A server on this machine (localhost,
// 127.0.0.1, ::1) is trusted through the store's development PKI, as
// `ses client --dev` does; any other must pass the Batch rules.
func (c *VerifyCmd) Run(g *cli.Globals) error {
	check := clientcmd.CheckCmd{TokenFlags: clientcmd.TokenFlags{App: c.App, Token: c.Token}}
	check.URL, check.APIVersion = c.Server, c.APIVersion
	check.Retries, check.Timeout = client.DefaultRetries, client.DefaultTimeout
	if check.URL == "" {
		check.URL = g.Getenv(client.EnvURL)
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
	Show         string   `default:"nonexpired" enum:"nonexpired,forsigning,forencrypting,forserverauth,expired,all" help:"Which certificates."`
	ExtraColumns []string `help:"More columns: subjectname, friendlyname (comma-separated)."`
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
	Thumbprint string `required:"" help:"The thumbprint to find."`
}

// Run shows the certificate with `ses certs show`.
func (c *FindCertificateCmd) Run(g *cli.Globals, store *tool.Store) error {
	s := certs.ShowCmd{Cert: c.Thumbprint}
	return s.Run(g, store)
}
