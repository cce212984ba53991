package token

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/tool"
)

// EntitlementCmd is `ses token`: it mints an entitlement token shaped as
// production issues it.
type EntitlementCmd struct {
	App       []string       `name:"app" aliases:"application-id" help:"Entitled application id (repeatable, or comma-separated)." placeholder:"APP"`
	Address   []string       `name:"address" aliases:"ip" help:"Entitled node address (repeatable, or comma-separated; default: every address of this machine)." placeholder:"IP"`
	VMID      string         `name:"vmid" help:"Virtual machine id claim." placeholder:"ID"`
	NotBefore string         `help:"Start of validity: ISO 8601 with Z or an offset (2026-11-22T10:00Z), or without in local time (2026-11-22T10:00), MM/dd/yyyy HH:mm:ss (local), yyyy-MM-dd, or +2h/-1d from now (default: now)." placeholder:"TIME"`
	NotAfter  string         `help:"End of validity, as --not-before (default: --lifetime after --not-before)." xor:"end" placeholder:"TIME"`
	Lifetime  *time.Duration `help:"Validity after --not-before, e.g. 2h, 7d, 1d12h (default: ${default_lifetime})." xor:"end" placeholder:"DURATION"`
	Sign      string         `help:"Certificate to sign with: a file, a thumbprint, dev, or none (default: ${default})." default:"dev" placeholder:"CERT"`
	SignKey   string         `help:"The --sign certificate's private key, when it is in another file than the certificate and not beside it as NAME-key.pem or NAME.key." type:"path" placeholder:"FILE"`
	Encrypt   string         `help:"Certificate to encrypt to: a file, a thumbprint, dev, or none (default: ${default})." default:"dev" placeholder:"CERT"`
	Audience  string         `help:"Audience claim (default: ${default})." default:"${default_audience}" placeholder:"URL"`
	Issuer    string         `help:"Issuer claim (default: ${default})." default:"${default_issuer}" placeholder:"URL"`
	ID        string         `name:"id" help:"Token id claim (default: token-<uuid>)." placeholder:"ID"`
	TokenFile string         `name:"token-file" short:"o" help:"Write the token to this file instead of stdout." type:"path" placeholder:"FILE"`
}

// Run mints the token and writes it, with a newline, to stdout or
// --token-file.
func (c *EntitlementCmd) Run(g *cli.Globals) error {
	tok, err := c.Mint(g)
	if err != nil {
		return err
	}
	if c.TokenFile == "" {
		_, err := fmt.Fprintln(g.Stdout, tok)
		return err
	}
	if err := tool.WriteFileAtomic(c.TokenFile, []byte(tok+"\n"), 0o600); err != nil {
		return cli.Usagef("--token-file: %v", err)
	}
	return nil
}

// Mint returns the token the flags describe. Every problem with them is
// reported at once: the claims' and both certificates'.
func (c *EntitlementCmd) Mint(g *cli.Globals) (string, error) {
	claims, cerr := c.claims(g)
	sign, serr := g.LoadCert(cli.CertFlag{Flag: "--sign", Spec: c.Sign, KeyFlag: "--sign-key", KeyFile: c.SignKey, Purpose: tool.PurposeSigning, NeedKey: true})
	enc, eerr := g.LoadCert(cli.CertFlag{Flag: "--encrypt", Spec: c.Encrypt, Purpose: tool.PurposeEncryption})
	if err := errors.Join(cerr, serr, eerr); err != nil {
		return "", err
	}
	var encCert *x509.Certificate
	if enc != nil {
		encCert = enc.Certificate
	}
	tok, err := tool.Seal(claims, sign, encCert)
	if err != nil {
		return "", cli.Usagef("%v", err)
	}
	return tok, nil
}

// localAddresses lists the addresses of this machine's interfaces, IPv6
// zones stripped: the default of --address.
func localAddresses() ([]string, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range addrs {
		prefix, err := netip.ParsePrefix(a.String())
		if err != nil {
			continue
		}
		out = append(out, prefix.Addr().WithZone("").String())
	}
	return out, nil
}

// claims builds the token's claims from the flags, reporting every
// problem with them.
func (c *EntitlementCmd) claims(g *cli.Globals) (tool.Claims, error) {
	var errs []error
	apps := cli.List(c.App)
	if len(apps) == 0 {
		errs = append(errs, cli.Usagef("no application given").Hint("name the entitled application with --app, e.g. --app contosoapp"))
	}
	addrs := cli.List(c.Address)
	if len(addrs) == 0 {
		local, err := localAddresses()
		if err != nil || len(local) == 0 {
			errs = append(errs, cli.Usagef("cannot list this machine's addresses: %v", err).Hint("give them with --address"))
		}
		addrs = local
	}
	for i, a := range addrs {
		ip, err := netip.ParseAddr(a)
		if err != nil {
			errs = append(errs, cli.Usagef("--address %q is not an IP address", a).Hint("give IPv4 or IPv6 addresses, e.g. --address 10.0.0.4,fe80::1"))
			continue
		}
		addrs[i] = ip.WithZone("").String()
	}
	now := g.Now().Truncate(time.Second)
	nbf, exp := now, time.Time{}
	var terr error
	if c.NotBefore != "" {
		if nbf, terr = g.ParseTime("--not-before", c.NotBefore); terr != nil {
			errs = append(errs, terr)
		}
	}
	if c.NotAfter != "" {
		var err error
		if exp, err = g.ParseTime("--not-after", c.NotAfter); err != nil {
			errs = append(errs, err)
			terr = err
		}
	} else {
		life := tool.DefaultLifetime
		if c.Lifetime != nil {
			life = *c.Lifetime
		}
		exp = nbf.Add(life)
	}
	if terr == nil && !nbf.Before(exp) {
		// Only --not-after can end validity before it starts: --lifetime is positive.
		errs = append(errs, cli.Usagef("not-before %s is not earlier than not-after %s", nbf.Format(time.RFC3339), exp.Format(time.RFC3339)).
			Hint("move --not-before earlier or --not-after later"))
	}
	if err := errors.Join(errs...); err != nil {
		return tool.Claims{}, err
	}
	id := c.ID
	if id == "" {
		id = tool.NewTokenID()
	}
	return tool.Claims{
		ID:           id,
		Issuer:       c.Issuer,
		Audience:     c.Audience,
		NotBefore:    nbf,
		Expiry:       exp,
		IssuedAt:     now,
		Applications: apps,
		Addresses:    addrs,
		VMID:         c.VMID,
	}, nil
}
