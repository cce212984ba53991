// Package token implements `ses token`: flags to claims to tool.Seal, and
// Simple Web Tokens with `ses token swt`.
package token

import "time"

// DefaultSWTLifetime is how long a Simple Web Token lives unless
// --lifetime says.
const DefaultSWTLifetime = time.Hour

// Cmd is `ses token`: with no subcommand, an entitlement token.
type Cmd struct {
	Entitlement EntitlementCmd `cmd:"" default:"withargs" help:"Mint an entitlement token (the default)."`
	SWT         SWTCmd         `cmd:"" name:"swt" help:"Mint a Simple Web Token, or a new key with --new-key."`
}
