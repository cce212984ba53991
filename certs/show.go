package certs

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/tool"
)

// ShowCmd is `ses certs show`.
type ShowCmd struct {
	Cert string `arg:"" help:"A thumbprint in the store, a certificate file, or dev (the development TLS certificate)." placeholder:"THUMBPRINT|FILE"`
}

// Run shows one certificate in detail.
func (c *ShowCmd) Run(g *cli.Globals, store *tool.Store) error {
	cred, err := store.Load(c.Cert, tool.PurposeServerAuth)
	var notFound *tool.NotFoundError
	switch {
	case errors.As(err, &notFound):
		return cli.Usagef("%v", err).Hint("`ses certs list --show all` lists the store's thumbprints")
	case err != nil:
		return cli.Usagef("%v", err).Hint("give a thumbprint from `ses certs list`, a PEM, DER or PKCS#12 file, or dev")
	case cred == nil:
		return cli.Usagef("none names no certificate to show")
	}
	cas, err := store.CAs()
	if err != nil {
		return cli.Usagef("reading the store: %v", err)
	}
	return describe(g, cred, cas)
}

func describe(g *cli.Globals, cred *tool.Credential, cas []*x509.Certificate) error {
	cert := cred.Certificate
	tw := tabwriter.NewWriter(g.Stdout, 0, 4, 2, ' ', 0)
	// The values come from the certificate, outside data.
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, tool.Printable(v)) }
	row("subject", cert.Subject.String())
	row("issuer", cert.Issuer.String())
	var sans []string
	sans = append(sans, cert.DNSNames...)
	for _, ip := range cert.IPAddresses {
		sans = append(sans, ip.String())
	}
	if len(sans) > 0 {
		row("names", strings.Join(sans, ", "))
	}
	row("not before", cert.NotBefore.UTC().Format(time.RFC3339))
	row("not after", cert.NotAfter.UTC().Format(time.RFC3339))
	row("key", keyDescription(cert))
	row("sha-1", tool.ThumbprintOf(cert).String())
	sum := sha256.Sum256(cert.Raw)
	row("sha-256", fmt.Sprintf("%X", sum))
	row("usages", strings.Join(tool.Usages(cert), ", "))
	switch {
	case cred.Key != nil && cred.KeyFile != "":
		row("private key", "yes, in "+cred.KeyFile)
	case cred.Key != nil:
		row("private key", "yes")
	default:
		row("private key", "no")
	}
	if cred.File != "" {
		row("file", cred.File)
	}
	row("chain", chainDescription(cred, cas))
	return tw.Flush()
}

func keyDescription(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d bits", k.N.BitLen())
	case *ecdsa.PublicKey:
		return fmt.Sprintf("ECDSA %s", k.Curve.Params().Name)
	}
	return c.PublicKeyAlgorithm.String()
}

// chainDescription verifies the certificate against the store's CAs.
func chainDescription(cred *tool.Credential, cas []*x509.Certificate) string {
	roots, inters := x509.NewCertPool(), x509.NewCertPool()
	for _, ca := range append(cas, cred.Chain...) {
		if ca.IsCA && ca.CheckSignatureFrom(ca) == nil {
			roots.AddCert(ca)
		} else {
			inters.AddCert(ca)
		}
	}
	chains, err := cred.Certificate.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil || len(chains) == 0 {
		return "does not chain to a CA in the store"
	}
	var names []string
	for _, c := range chains[0] {
		names = append(names, fmt.Sprintf("%s (%s)", c.Subject.CommonName, tool.ThumbprintOf(c)))
	}
	return strings.Join(names, " <- ")
}
