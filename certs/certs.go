// Package certs implements `ses certs`: the development PKI, the store's
// certificates by thumbprint, a server's chain against the pins.
package certs

// Cmd is `ses certs`.
type Cmd struct {
	Create CreateCmd `cmd:"" help:"Create the development PKI in the store (idempotent)."`
	List   ListCmd   `cmd:"" help:"List the certificates in the store."`
	Show   ShowCmd   `cmd:"" help:"Show one certificate, by thumbprint or file."`
	Chain  ChainCmd  `cmd:"" help:"Show the chain a server presents and which pins match."`
	Pins   PinsCmd   `cmd:"" help:"List the built-in pins."`
}
