// Package client asks an entitlement endpoint whether this node is entitled
// to run an application, the way a Batch task must: known hosts only, a TLS
// chain that contains a pinned certificate before any byte of the token is
// sent, retries for what can be retried and never for a "no". It holds
// leases and asks WRAP v0.9 issuers for tokens too.
//
// It is a library with no command-line dependency; `ses client` (package
// clientcmd) is built on it.
package client
