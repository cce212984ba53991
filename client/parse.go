package client

// ParseEntitlement reads the body of an approved entitlement request (the
// 200 answer): the id is required, vmid and expiry are read when present.
// It is for callers that hold the response text, as the reference SDK's
// native Entitlement type was built from it.
func ParseEntitlement(body []byte) (*Entitlement, error) {
	return decodeEntitlement(body, false)
}
