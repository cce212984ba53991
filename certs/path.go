package certs

import (
	"fmt"

	"github.com/seskit/ses/cli"
)

// PathCmd is `ses certs path`.
type PathCmd struct{}

// Run prints the store's folder, the home of the development PKI (in its
// dev folder), as `mkcert -CAROOT` prints its own.
func (c *PathCmd) Run(g *cli.Globals) error {
	dir, err := g.StoreDir()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(g.Stdout, dir)
	return err
}
