package clientcmd

import "time"

// The defaults of the command's flags that the library does not set.
const (
	// DefaultLease is the lease duration asked for unless --duration says.
	DefaultLease = 5 * time.Minute
	// DefaultGrace is how long `ses client exec` lets a program stop.
	DefaultGrace = 10 * time.Second
	// DefaultWrapTimeout bounds `ses client wrap`.
	DefaultWrapTimeout = 30 * time.Second
)

// Cmd is `ses client`: with no subcommand, the entitlement check.
type Cmd struct {
	Check   CheckCmd   `cmd:"" default:"withargs" help:"Ask for an entitlement (the default)."`
	Lease   LeaseCmd   `cmd:"" help:"Acquire a lease (api-version 9999-09-09.99.99)."`
	Renew   RenewCmd   `cmd:"" help:"Renew a lease."`
	Release ReleaseCmd `cmd:"" help:"Release a lease."`
	Exec    ExecCmd    `cmd:"" help:"Run a program while holding a lease."`
	Wrap    WrapCmd    `cmd:"" help:"Get a Simple Web Token from a WRAP v0.9 issuer."`
}
