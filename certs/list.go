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
}

// Run lists the store's certificates.
func (c *ListCmd) Run(g *cli.Globals, store *tool.Store) error {
	return Listing{Show: c.Show}.Write(g, store)
}

// Listing is a table of the store's certificates, as `ses certs list` and
// the sestest dialect's list-certificates print it.
type Listing struct {
	// Show is the --show filter (see Shown).
	Show string
	// Extra adds the reference tool's columns: subjectname (the full
	// subject) and friendlyname (the file's name in the store).
	Extra []string
}

// Write prints the table to g.Stdout, and a warning on g.Stderr for each
// file of the store that does not load.
func (l Listing) Write(g *cli.Globals, store *tool.Store) error {
	entries, err := store.Entries()
	if err != nil {
		return cli.Usagef("reading the store: %v", err)
	}
	now := g.Now()
	tw := tabwriter.NewWriter(g.Stdout, 0, 4, 2, ' ', 0)
	header := "THUMBPRINT\tSUBJECT\tUSAGES\tNOT AFTER\tKEY\tFILE"
	for _, col := range l.Extra {
		header += "\t" + strings.ToUpper(col)
	}
	fmt.Fprintln(tw, header)
	for _, e := range entries {
		if e.Err != nil {
			fmt.Fprintf(g.Stderr, "ses: warning: %s\n", tool.Printable(e.Err.Error()))
			continue
		}
		if !Shown(l.Show, e.Credential, now) {
			continue
		}
		cert := e.Certificate
		key := "no"
		if e.Key != nil {
			key = "yes"
		}
		// Subjects and file names are outside data: escaped.
		p := tool.Printable
		row := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s", e.Thumbprint(), p(cert.Subject.CommonName),
			strings.Join(tool.Usages(cert), ","), cert.NotAfter.UTC().Format("2006-01-02"), key, p(e.File))
		for _, col := range l.Extra {
			switch strings.ToLower(col) {
			case "subjectname":
				row += "\t" + p(cert.Subject.String())
			case "friendlyname":
				row += "\t" + p(strings.TrimSuffix(filepath.Base(e.File), filepath.Ext(e.File)))
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
