// Package tool is the shared core of ses: the entitlement token (claims,
// Seal, Open and the checks behind them), Simple Web Tokens, certificates and
// keys (loading, thumbprints, the store, the development PKI), the Batch host
// allow-list and certificate-chain pins.
//
// It never prints, exits, reads flags or reads the environment: everything it
// needs is an argument, and every failure is an error value, typed where a
// caller may want to tell one from another.
package tool
