// Package certs implements `ses certs`: the development PKI, the store's
// certificates by thumbprint, a server's chain against the pins.
package certs

// Cmd is `ses certs`.
type Cmd struct {
	Create  CreateCmd  `cmd:"" help:"Create the development PKI in the store (idempotent)."`
	List    ListCmd    `cmd:"" help:"List the certificates in the store."`
	Show    ShowCmd    `cmd:"" help:"Show one certificate, by thumbprint or file."`
	Chain   ChainCmd   `cmd:"" help:"Show the chain a server presents and which pins match."`
	Pins    PinsCmd    `cmd:"" help:"List the built-in pins."`
	Path    PathCmd    `cmd:"" help:"Print the store's folder (the development PKI is in its dev folder)."`
	Trust   TrustCmd   `cmd:"" help:"Add the development root to the system trust store, for curl and browsers (needs root: asks sudo)."`
	Untrust UntrustCmd `cmd:"" help:"Remove the development root from the system trust store."`
}
