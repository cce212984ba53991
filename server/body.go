package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// request is an entitlement request body, whatever the api-version.
// encoding/json matches the property names in any case.
type request struct {
	Token         string `json:"token"`
	ApplicationID string `json:"applicationId"`
	Duration      string `json:"duration"`
}

// errNotJSON is a body that is not a JSON object, even leniently read.
var errNotJSON = errors.New("request body is not a JSON object")

// decodeRequest reads a request body as the reference server did: property
// names in any case, and the single-quoted strings of its own examples.
func decodeRequest(body []byte) (request, error) {
	var r request
	err := json.Unmarshal(body, &r)
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		fixed, ok := singleToDoubleQuotes(body)
		if !ok {
			return request{}, errNotJSON
		}
		err = json.Unmarshal(fixed, &r)
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return request{}, fmt.Errorf("property %q is not a string", typeErr.Field)
	case err != nil:
		return request{}, errNotJSON
	case bytes.HasPrefix(bytes.TrimSpace(body), []byte("null")):
		return request{}, errNotJSON
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
