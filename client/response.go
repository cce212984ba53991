package client

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Entitlement is an approved entitlement request.
type Entitlement struct {
	// ID is the entitlement id the server gave.
	ID string `json:"id"`
	// VMID is given by api-versions 5.0 and 5.1.
	VMID string `json:"vmid,omitempty"`
	// Expiry is given by later api-versions; zero otherwise.
	Expiry time.Time `json:"expiry,omitzero"`
}

// Lease is an acquired lease.
type Lease struct {
	ID     string    `json:"entitlementId"`
	Expiry time.Time `json:"expiry"`
}

// errorBody is the error shape the endpoint answers with.
type errorBody struct {
	Code    string `json:"code"`
	Message struct {
		Value string `json:"value"`
	} `json:"message"`
}

// refusal turns a non-success answer into an error: 403 (and, for leases,
// 404 and 409) is a denial; anything else is unexpected.
func refusal(status int, body []byte, lease bool) error {
	var e errorBody
	json.Unmarshal(body, &e)
	switch {
	case status == http.StatusForbidden,
		lease && (status == http.StatusNotFound || status == http.StatusConflict):
		return &DeniedError{Status: status, Code: e.Code, Message: e.Message.Value}
	case status >= 300 && status < 400:
		return &ProtocolError{Status: status, Msg: "the server redirected; redirects are never followed"}
	case e.Message.Value != "":
		return &ProtocolError{Status: status, Msg: fmt.Sprintf("%s: %s", e.Code, e.Message.Value)}
	default:
		return &ProtocolError{Status: status, Msg: http.StatusText(status)}
	}
}

// decodeEntitlement reads the 200 answer of an entitlement request. The
// versions whose contract carries vmid must carry it.
func decodeEntitlement(body []byte, wantVMID bool) (*Entitlement, error) {
	var raw struct {
		ID     string `json:"id"`
		VMID   string `json:"vmid"`
		Expiry string `json:"expiry"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, &ProtocolError{Status: 200, Msg: "the body is not the expected JSON: " + err.Error()}
	}
	if raw.ID == "" {
		return nil, &ProtocolError{Status: 200, Msg: "the answer has no entitlement id"}
	}
	e := &Entitlement{ID: raw.ID, VMID: raw.VMID}
	if wantVMID && raw.VMID == "" {
		return nil, &ProtocolError{Status: 200, Msg: "the answer has no vmid, which this api-version requires"}
	}
	if raw.Expiry != "" {
		t, err := time.Parse(time.RFC3339, raw.Expiry)
		if err != nil {
			return nil, &ProtocolError{Status: 200, Msg: fmt.Sprintf("expiry %q is not an RFC 3339 time", raw.Expiry)}
		}
		e.Expiry = t
	}
	return e, nil
}

// decodeLease reads the 200 answer of an acquisition (expiryField
// "initialExpiryTime") or a renewal ("expiryTime").
func decodeLease(body []byte, expiryField string) (*Lease, error) {
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, &ProtocolError{Status: 200, Msg: "the body is not the expected JSON: " + err.Error()}
	}
	l := &Lease{}
	if id, ok := raw["entitlementId"].(string); ok {
		l.ID = id
	}
	s, _ := raw[expiryField].(string)
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, &ProtocolError{Status: 200, Msg: fmt.Sprintf("%s %q is not an RFC 3339 time", expiryField, s)}
	}
	l.Expiry = t
	return l, nil
}
