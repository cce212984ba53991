package client

import (
	"fmt"

	"github.com/seskit/ses/tool"
)

// ParseEntitlement reads the text of an approved entitlement request (the
// 200 answer) in the shape of apiVersion, tool.DefaultAPIVersion when "": as
// Check reads it, so a vmid is required for 2017-05-01.5.0 and
// 2017-06-01.5.1. It is for callers that hold the response text, as the
// reference SDK's native Entitlement type was built from it.
func ParseEntitlement(body []byte, apiVersion string) (*Entitlement, error) {
	if apiVersion == "" {
		apiVersion = tool.DefaultAPIVersion
	}
	v, ok := tool.LookupAPIVersion(apiVersion)
	if !ok || v.Lease {
		return nil, fmt.Errorf("api-version %q is not one of the published entitlement versions", apiVersion)
	}
	return decodeEntitlement(body, v)
}
