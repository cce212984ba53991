package clientcmd

// Cmd is `ses client`: with no subcommand, the entitlement check.
type Cmd struct {
	Check   CheckCmd   `cmd:"" default:"withargs" help:"Ask for an entitlement (the default)."`
	Lease   LeaseCmd   `cmd:"" help:"Acquire a lease (api-version 9999-09-09.99.99)."`
	Renew   RenewCmd   `cmd:"" help:"Renew a lease."`
	Release ReleaseCmd `cmd:"" help:"Release a lease."`
	Exec    ExecCmd    `cmd:"" help:"Run a program while holding a lease."`
	Wrap    WrapCmd    `cmd:"" help:"Get a Simple Web Token from a WRAP v0.9 issuer."`
}
