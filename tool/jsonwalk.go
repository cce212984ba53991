package tool

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// The walk of a JSON text that encoding/json has already found valid
// (json.Valid): the members of an object and the elements of an array as
// the slices of the text that hold them, so that a token's headers and
// claims are read in one pass and without reflection. On a text that is not
// valid the walk stops early or yields nonsense, but never reads out of
// bounds.

var errNotObject = errors.New("not a JSON object")

func skipSpace(d []byte, i int) int {
	for i < len(d) && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r') {
		i++
	}
	return i
}

// endOfString is the index just past the string that starts at d[i], a
// quote.
func endOfString(d []byte, i int) int {
	for i++; i < len(d); i++ {
		switch d[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(d)
}

// endOfValue is the index just past the value that starts at d[i].
func endOfValue(d []byte, i int) int {
	if i >= len(d) {
		return len(d)
	}
	switch d[i] {
	case '"':
		return endOfString(d, i)
	case '{', '[':
		depth := 0
		for i < len(d) {
			switch d[i] {
			case '"':
				i = endOfString(d, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(d)
	}
	for ; i < len(d); i++ {
		switch d[i] {
		case ',', ']', '}', ' ', '\t', '\n', '\r':
			return i
		}
	}
	return i
}

// eachMember calls fn with the name (unescaped) and the value (as written)
// of each member of the object d, in order, and stops at fn's first error.
// It returns errNotObject when d is another kind of value.
func eachMember(d []byte, fn func(name, value []byte) error) error {
	i := skipSpace(d, 0)
	if i >= len(d) || d[i] != '{' {
		return errNotObject
	}
	i = skipSpace(d, i+1)
	for i < len(d) && d[i] == '"' {
		end := endOfString(d, i)
		name := d[i+1 : max(i+1, end-1)]
		if bytes.IndexByte(name, '\\') >= 0 {
			var s string
			if err := json.Unmarshal(d[i:end], &s); err != nil {
				return err
			}
			name = []byte(s)
		}
		i = skipSpace(d, skipSpace(d, end)+1) // past the colon
		vend := endOfValue(d, i)
		if err := fn(name, d[i:vend]); err != nil {
			return err
		}
		if i = skipSpace(d, vend); i < len(d) && d[i] == ',' {
			i = skipSpace(d, i+1)
		}
	}
	return nil
}

// eachElement calls fn with each element of the array d, as written, and
// stops at fn's first error. It returns false when d is not an array.
func eachElement(d []byte, fn func(value []byte) error) (bool, error) {
	i := skipSpace(d, 0)
	if i >= len(d) || d[i] != '[' {
		return false, nil
	}
	i = skipSpace(d, i+1)
	for i < len(d) && d[i] != ']' {
		end := endOfValue(d, i)
		if end == i {
			break
		}
		if err := fn(d[i:end]); err != nil {
			return true, err
		}
		if i = skipSpace(d, end); i < len(d) && d[i] == ',' {
			i = skipSpace(d, i+1)
		}
	}
	return true, nil
}

// jsonString reads the string value v, as encoding/json would (escapes
// decoded, invalid UTF-8 replaced); ok is false when v is not a string.
func jsonString(v []byte) (s string, ok bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	if inner := v[1 : len(v)-1]; bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), true
	}
	return unquote(v)
}

// unquote is jsonString's slow path, apart so that the fast one keeps its
// string off the heap.
func unquote(v []byte) (string, bool) {
	var s string
	err := json.Unmarshal(v, &s)
	return s, err == nil
}

// isNull reports whether v is the JSON null.
func isNull(v []byte) bool { return string(v) == "null" }
