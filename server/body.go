package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// request is an entitlement request body, whatever the api-version.
type request struct {
	Token         string
	ApplicationID string
	Duration      string
	// Has records which properties were present, by lower-case name.
	Has map[string]bool
}

// errNotJSON is a body that is not a JSON object, even leniently read.
var errNotJSON = errors.New("request body is not a JSON object")

// decodeRequest reads a request body as the reference server did: property
// names in any case, and the single-quoted strings of its own examples.
func decodeRequest(body []byte) (request, error) {
	var r request
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		fixed, ok := singleToDoubleQuotes(body)
		if !ok || json.Unmarshal(fixed, &raw) != nil || raw == nil {
			return r, errNotJSON
		}
	}
	if raw == nil {
		return r, errNotJSON
	}
	r.Has = make(map[string]bool, len(raw))
	for k, v := range raw {
		name := strings.ToLower(k)
		var s string
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			continue
		}
		if err := json.Unmarshal(v, &s); err != nil {
			return r, fmt.Errorf("property %q is not a string", k)
		}
		switch name {
		case "token":
			r.Token = s
		case "applicationid":
			r.ApplicationID = s
		case "duration":
			r.Duration = s
		}
		r.Has[name] = true
	}
	return r, nil
}

// singleToDoubleQuotes rewrites single-quoted JSON strings as double-quoted
// ones, escaping the double quotes inside them. It reports false when the
// quotes do not balance.
func singleToDoubleQuotes(in []byte) ([]byte, bool) {
	out := make([]byte, 0, len(in)+8)
	var quote byte // the quote of the string we are in, 0 outside
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch {
		case quote == 0 && (c == '\'' || c == '"'):
			quote = c
			out = append(out, '"')
		case quote != 0 && c == '\\' && i+1 < len(in):
			if quote == '\'' && in[i+1] == '\'' {
				out = append(out, '\'')
			} else {
				out = append(out, c, in[i+1])
			}
			i++
		case quote != 0 && c == quote:
			quote = 0
			out = append(out, '"')
		case quote == '\'' && c == '"':
			out = append(out, '\\', '"')
		default:
			out = append(out, c)
		}
	}
	return out, quote == 0
}
