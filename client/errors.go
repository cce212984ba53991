package client

import (
	"errors"
	"fmt"

	"github.com/seskit/ses/tool"
)

// ErrLeaseID is wrapped by the error Renew and Release return, before any
// request, for an id that is not a lease id (tool.IsLeaseID).
var ErrLeaseID = errors.New("not a lease id (32 hexadecimal digits)")

// DeniedError is a definite "no" from the server: 403 for an entitlement,
// 404 or 409 for a lease, 401 from a WRAP issuer.
type DeniedError struct {
	Status int
	// Code is the error code of the answer (tool.ErrorCode), e.g.
	// EntitlementDenied or LeaseExpired.
	Code string
	// Message is the answer's readable message, as the server sent it
	// (Error escapes what a terminal would act on).
	Message string
}

func (e *DeniedError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("denied (%d %s)", e.Status, tool.Printable(e.Code))
	}
	return fmt.Sprintf("denied (%d %s): %s", e.Status, tool.Printable(e.Code), tool.Printable(e.Message))
}

// UntrustedError is a server the client will not send a token to: a URL
// against the rules, a host that is malformed or not on the list
// (*tool.HostError), any failure of the TLS handshake (the chain, the
// pins, the protocol).
type UntrustedError struct {
	Reason string
	Err    error
	// RefusedHost is the host when the host list refused it (Options.AllowHosts
	// widens the list).
	RefusedHost string
}

func (e *UntrustedError) Error() string {
	switch {
	case e.Err == nil:
		return "server not trusted: " + e.Reason
	case e.Reason == "":
		return fmt.Sprintf("server not trusted: %v", e.Err)
	}
	return fmt.Sprintf("server not trusted: %s: %v", e.Reason, e.Err)
}

func (e *UntrustedError) Unwrap() error { return e.Err }

// UnreachableError is a server that could not be reached, or kept failing,
// after every retry.
type UnreachableError struct {
	Attempts int
	Err      error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("server unreachable after %d attempt(s): %v", e.Attempts, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// ProtocolError is an answer the client did not expect: a redirect, an
// unexpected status, a malformed body.
type ProtocolError struct {
	Status int
	Msg    string
}

func (e *ProtocolError) Error() string {
	if e.Status == 0 {
		return "unexpected answer: " + tool.Printable(e.Msg)
	}
	return fmt.Sprintf("unexpected answer (status %d): %s", e.Status, tool.Printable(e.Msg))
}
