package certs

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/tool"
)

// ListCmd is `ses certs list`.
type ListCmd struct {
	Show string `help:"Which certificates: nonexpired, forsigning, forencrypting, forserverauth, expired, all." enum:"nonexpired,forsigning,forencrypting,forserverauth,expired,all" default:"nonexpired"`
	// Extra adds the reference tool's columns: subjectname (the full
	// subject) and friendlyname (the file's name in the store).
	Extra []string `kong:"-"`
}

// Run lists the store's certificates.
func (c *ListCmd) Run(g *cli.Globals) error {
	store, err := g.OpenStore()
	if err != nil {
		return err
	}
	entries, err := store.Entries()
	if err != nil {
		return cli.Usagef("reading the store: %v", err)
	}
	now := g.Now()
	tw := tabwriter.NewWriter(g.Stdout, 0, 4, 2, ' ', 0)
	header := "THUMBPRINT\tSUBJECT\tUSAGES\tNOT AFTER\tKEY\tFILE"
	for _, col := range c.Extra {
		header += "\t" + strings.ToUpper(col)
	}
	fmt.Fprintln(tw, header)
	for _, e := range entries {
		if e.Err != nil {
			fmt.Fprintf(g.Stderr, "ses: warning: %v\n", e.Err)
			continue
		}
		if !Shown(c.Show, e.Credential, now) {
			continue
		}
		cert := e.Certificate
		key := "no"
		if e.Key != nil {
			key = "yes"
		}
		row := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s", e.Thumbprint(), cert.Subject.CommonName,
			strings.Join(tool.Usages(cert), ","), cert.NotAfter.UTC().Format("2006-01-02"), key, e.File)
		for _, col := range c.Extra {
			switch strings.ToLower(col) {
			case "subjectname":
				row += "\t" + cert.Subject.String()
			case "friendlyname":
				row += "\t" + strings.TrimSuffix(filepath.Base(e.File), filepath.Ext(e.File))
			}
		}
		fmt.Fprintln(tw, row)
	}
	return tw.Flush()
}

// Shown reports whether a --show filter keeps a certificate.
func Shown(show string, c *tool.Credential, now time.Time) bool {
	cert := c.Certificate
	expired := now.After(cert.NotAfter)
	usages := tool.Usages(cert)
	switch show {
	case "all":
		return true
	case "expired":
		return expired
	case "forsigning":
		return !expired && c.Key != nil && slices.Contains(usages, "signing")
	case "forencrypting":
		return !expired && c.Key != nil && slices.Contains(usages, "encrypting")
	case "forserverauth":
		return !expired && c.Key != nil && slices.Contains(usages, "serverauth")
	default:
		return !expired
	}
}
