package server

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/seskit/ses/tool"
)

// errNotJSON is a body that is not a JSON object, even leniently read.
var errNotJSON = errors.New("request body is not a JSON object")

// maxDepth bounds the nesting of objects and arrays, the body's own object
// included, as encoding/json does.
const maxDepth = 10000

// decodeRequest reads a request body as the reference server did: a JSON
// object whose property names match in any case, where strings may also be
// written in single quotes (as in the reference's own examples). Properties
// other than token, applicationId and duration are checked and skipped; a
// null leaves a property unset. Otherwise it agrees with encoding/json,
// which it replaces because it reads the body once, with one allocation per
// string kept, where encoding/json reads it twice.
func decodeRequest(body []byte) (tool.EntitlementRequest, error) {
	d := decoder{data: body}
	var r tool.EntitlementRequest
	d.space()
	if !d.eat('{') {
		return tool.EntitlementRequest{}, errNotJSON
	}
	d.space()
	if !d.eat('}') {
		for {
			d.space()
			name, ok := d.str(true)
			if !ok {
				return tool.EntitlementRequest{}, errNotJSON
			}
			d.space()
			if !d.eat(':') {
				return tool.EntitlementRequest{}, errNotJSON
			}
			d.space()
			var field *string
			switch {
			case strings.EqualFold(name, tool.FieldToken):
				field = &r.Token
			case strings.EqualFold(name, tool.FieldApplicationID):
				field = &r.ApplicationID
			case strings.EqualFold(name, tool.FieldDuration):
				field = &r.Duration
			}
			switch {
			case field == nil:
				if !d.skip(0) {
					return tool.EntitlementRequest{}, errNotJSON
				}
			case d.peek() == '"' || d.peek() == '\'':
				if *field, ok = d.str(true); !ok {
					return tool.EntitlementRequest{}, errNotJSON
				}
			case d.literal("null"):
			default:
				if !d.skip(0) {
					return tool.EntitlementRequest{}, errNotJSON
				}
				return tool.EntitlementRequest{}, fmt.Errorf("property %q is not a string", name)
			}
			d.space()
			if d.eat('}') {
				break
			}
			if !d.eat(',') {
				return tool.EntitlementRequest{}, errNotJSON
			}
		}
	}
	d.space()
	if d.pos != len(d.data) {
		return tool.EntitlementRequest{}, errNotJSON
	}
	return r, nil
}

// decoder reads JSON from data, leniently about quotes.
type decoder struct {
	data []byte
	pos  int
}

func (d *decoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

func (d *decoder) eat(c byte) bool {
	if d.peek() == c && d.pos < len(d.data) {
		d.pos++
		return true
	}
	return false
}

func (d *decoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) literal(s string) bool {
	if len(d.data)-d.pos >= len(s) && string(d.data[d.pos:d.pos+len(s)]) == s {
		d.pos += len(s)
		return true
	}
	return false
}

// skip passes over one value of any kind, checking its syntax.
func (d *decoder) skip(depth int) bool {
	switch c := d.peek(); {
	case c == '"' || c == '\'':
		_, ok := d.str(false)
		return ok
	case c == '{' || c == '[':
		if depth+2 > maxDepth { // the body's object, and this one
			return false
		}
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		d.pos++
		d.space()
		if d.eat(end) {
			return true
		}
		for {
			d.space()
			if c == '{' {
				if _, ok := d.str(false); !ok {
					return false
				}
				d.space()
				if !d.eat(':') {
					return false
				}
				d.space()
			}
			if !d.skip(depth + 1) {
				return false
			}
			d.space()
			if d.eat(end) {
				return true
			}
			if !d.eat(',') {
				return false
			}
		}
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	default:
		return d.number()
	}
}

// number passes over a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *decoder) number() bool {
	digits := func() int {
		n := 0
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			d.pos++
			n++
		}
		return n
	}
	d.eat('-')
	switch {
	case d.eat('0'):
	case digits() == 0:
		return false
	}
	if d.eat('.') && digits() == 0 {
		return false
	}
	if d.eat('e') || d.eat('E') {
		if !d.eat('+') {
			d.eat('-')
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}

// str reads a string in double or single quotes. With keep it returns its
// value, invalid UTF-8 and lone surrogates replaced by U+FFFD as
// encoding/json does; without, it only checks it.
func (d *decoder) str(keep bool) (string, bool) {
	q := d.peek()
	if q != '"' && q != '\'' {
		return "", false
	}
	d.pos++
	start, plain := d.pos, true
	// Tokens are long and plain: find their end in a tight loop first.
	i, data := d.pos, d.data
	for i < len(data) && data[i] != q && data[i] != '\\' && data[i] >= 0x20 {
		i++
	}
	for d.pos = i; d.pos < len(d.data); d.pos++ {
		switch c := d.data[d.pos]; {
		case c == q:
			raw := d.data[start:d.pos]
			d.pos++
			if !keep {
				return "", true
			}
			if plain && utf8.Valid(raw) {
				return string(raw), true
			}
			return unescape(raw)
		case c < 0x20:
			return "", false
		case c == '\\':
			plain = false
			if d.pos+1 >= len(d.data) {
				return "", false
			}
			switch d.data[d.pos+1] {
			case '"', '\'', '\\', '/', 'b', 'f', 'n', 'r', 't':
				d.pos++
			case 'u':
				if _, ok := hex4(d.data[d.pos+2:]); !ok {
					return "", false
				}
				d.pos += 5
			default:
				return "", false
			}
		}
	}
	return "", false
}

// unescape decodes the inside of a string that has escapes (checked by str)
// or bytes that are not UTF-8.
func unescape(raw []byte) (string, bool) {
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			r, size := utf8.DecodeRune(raw[i:])
			b.WriteRune(r) // RuneError for a byte that is not UTF-8
			i += size
			continue
		}
		if i+1 >= len(raw) {
			return "", false
		}
		i += 2
		switch raw[i-1] {
		case '"', '\'', '\\', '/':
			b.WriteByte(raw[i-1])
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := hex4(raw[i:])
			if !ok {
				return "", false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					r2, ok = hex4(raw[i+2:])
				}
				if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	return b.String(), true
}

// hex4 reads the four hex digits of a \u escape.
func hex4(s []byte) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
