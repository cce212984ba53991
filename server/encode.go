package server

import (
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/seskit/ses/tool"
)

// The answers of the entitlement endpoint are written by hand into pooled
// buffers rather than by encoding/json: they have a fixed shape, and the
// reflection and allocations of encoding them were a good part of a
// cached request's cost. Each writes exactly what json.Encoder writes for
// the tool type it stands for (encode_test.go checks it).

// buffers holds the buffers request bodies are read into and answers
// written from.
var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

func getBuffer() *[]byte { return buffers.Get().(*[]byte) }

func putBuffer(b *[]byte) {
	if cap(*b) <= MaxBody { // a rare huge one is left to the collector
		*b = (*b)[:0]
		buffers.Put(b)
	}
}

// jsonType is the Content-Type of every JSON answer, one slice shared by
// all: net/http only reads it.
var jsonType = []string{"application/json; charset=utf-8"}

// writeBody answers status with the JSON body b.
func writeBody(w http.ResponseWriter, status int, b []byte) {
	w.Header()["Content-Type"] = jsonType
	w.WriteHeader(status)
	w.Write(b)
}

// respond writes an answer that fill appends to a pooled buffer.
func respond(w http.ResponseWriter, status int, fill func([]byte) []byte) {
	buf := getBuffer()
	*buf = fill((*buf)[:0])
	writeBody(w, status, *buf)
	putBuffer(buf)
}

// appendField appends `"name":"value"` (after a comma unless first).
func appendField(b []byte, first bool, name, value string) []byte {
	if !first {
		b = append(b, ',')
	}
	b = appendString(b, name)
	b = append(b, ':')
	return appendString(b, value)
}

// appendV1 is tool.EntitlementResponseV1 with a fresh entitlement id.
func appendV1(b []byte, vmid string) []byte {
	b = append(b, `{"id":"`...)
	b = tool.AppendEntitlementID(b)
	b = append(b, `",`...)
	return append(appendField(b, true, "vmid", vmid), "}\n"...)
}

// appendV2 is tool.EntitlementResponseV2 with a fresh entitlement id.
func appendV2(b []byte, expiry time.Time) []byte {
	b = append(b, `{"id":"`...)
	b = tool.AppendEntitlementID(b)
	b = append(b, `","expiry":"`...)
	return append(tool.AppendTime(b, expiry), "\"}\n"...)
}

// appendAcquired is tool.LeaseAcquireResponse.
func appendAcquired(b []byte, id string, expiry time.Time) []byte {
	b = append(appendField(append(b, '{'), true, "entitlementId", id), `,"initialExpiryTime":"`...)
	return append(tool.AppendTime(b, expiry), "\"}\n"...)
}

// appendRenewed is tool.LeaseRenewResponse.
func appendRenewed(b []byte, expiry time.Time) []byte {
	b = append(b, `{"expiryTime":"`...)
	return append(tool.AppendTime(b, expiry), "\"}\n"...)
}

// appendError is tool.ErrorResponse.
func appendError(b []byte, code tool.ErrorCode, msg string) []byte {
	b = append(appendField(append(b, '{'), true, "code", string(code)), `,"message":{`...)
	b = appendField(b, true, "lang", tool.ErrorLanguage)
	return append(appendField(b, false, "value", msg), "}}\n"...)
}

// appendString appends s as a JSON string as encoding/json writes it: HTML
// characters, U+2028 and U+2029 escaped, invalid UTF-8 as U+FFFD.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = strconv.AppendInt(b, int64(r&0xf), 16)
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(append(b, s[start:]...), '"')
}
