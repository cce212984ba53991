package client

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/seskit/ses/tool"
)

// Entitlement is an approved entitlement request.
type Entitlement struct {
	// ID is the entitlement id the server gave.
	ID string
	// VMID is given by api-versions 5.0 and 5.1.
	VMID string
	// Expiry is given by later api-versions; zero otherwise.
	Expiry time.Time
}

// Lease is an acquired lease.
type Lease struct {
	// ID is the lease's entitlement id, for Renew and Release.
	ID string
	// Expiry is when the lease ends unless it is renewed.
	Expiry time.Time
}

// refusal turns a non-success answer into an error: 403 (and, for leases,
// 404 and 409) is a denial; anything else is unexpected.
func refusal(status int, body []byte, lease bool) error {
	var e tool.ErrorResponse
	json.Unmarshal(body, &e) // a body that is not the error shape leaves e empty
	switch {
	case status == http.StatusForbidden,
		lease && (status == http.StatusNotFound || status == http.StatusConflict):
		return &DeniedError{Status: status, Code: string(e.Code), Message: e.Message.Value}
	case status >= 300 && status < 400:
		return &ProtocolError{Status: status, Msg: "the server redirected; redirects are never followed"}
	case e.Message.Value != "":
		return &ProtocolError{Status: status, Msg: fmt.Sprintf("%s: %s", e.Code, e.Message.Value)}
	default:
		return &ProtocolError{Status: status, Msg: http.StatusText(status)}
	}
}

// decode reads a 200 answer into v.
func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return &ProtocolError{Status: http.StatusOK, Msg: "the body is not the expected JSON: " + err.Error()}
	}
	return nil
}

// parseTime reads a time of an answer; what names it in the error.
func parseTime(what, s string) (time.Time, error) {
	t, err := time.Parse(tool.TimeLayout, s)
	if err != nil {
		return time.Time{}, &ProtocolError{Status: http.StatusOK, Msg: fmt.Sprintf("%s %q is not an RFC 3339 time", what, s)}
	}
	return t, nil
}

// decodeEntitlement reads the 200 answer of an entitlement request in the
// shape of its api-version. The versions whose contract carries vmid must
// carry it; the later ones may leave out the expiry.
func decodeEntitlement(body []byte, v tool.APIVersion) (*Entitlement, error) {
	e := &Entitlement{}
	if v.VMID {
		var r tool.EntitlementResponseV1
		if err := decode(body, &r); err != nil {
			return nil, err
		}
		if r.VMID == "" {
			return nil, &ProtocolError{Status: http.StatusOK, Msg: "the answer has no vmid, which this api-version requires"}
		}
		e.ID, e.VMID = r.ID, r.VMID
	} else {
		var r tool.EntitlementResponseV2
		if err := decode(body, &r); err != nil {
			return nil, err
		}
		e.ID = r.ID
		if r.Expiry != "" {
			t, err := parseTime("the expiry", r.Expiry)
			if err != nil {
				return nil, err
			}
			e.Expiry = t
		}
	}
	if e.ID == "" {
		return nil, &ProtocolError{Status: http.StatusOK, Msg: "the answer has no entitlement id"}
	}
	return e, nil
}

// decodeAcquired reads the 200 answer of a lease acquisition.
func decodeAcquired(body []byte) (*Lease, error) {
	var r tool.LeaseAcquireResponse
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	t, err := parseTime("the lease's expiry", r.InitialExpiryTime)
	if err != nil {
		return nil, err
	}
	if !tool.IsLeaseID(r.EntitlementID) {
		return nil, &ProtocolError{Status: http.StatusOK, Msg: fmt.Sprintf("the answer's lease id %q is not %d hexadecimal digits", r.EntitlementID, tool.LeaseIDLength)}
	}
	return &Lease{ID: r.EntitlementID, Expiry: t}, nil
}

// decodeRenewed reads the 200 answer of a lease renewal: the new expiry.
func decodeRenewed(body []byte) (time.Time, error) {
	var r tool.LeaseRenewResponse
	if err := decode(body, &r); err != nil {
		return time.Time{}, err
	}
	return parseTime("the renewed expiry", r.ExpiryTime)
}
