package server

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/seskit/ses/tool"
)

func TestDecodeRequest(t *testing.T) {
	tests := []struct {
		name, body           string
		token, app, duration string
		bad                  bool
	}{
		{name: "plain", body: `{"token":"t","applicationId":"a"}`, token: "t", app: "a"},
		{name: "empty object", body: ` { } `},
		{name: "white space", body: " \t\r\n{ \"token\" : \"t\" ,\n\"applicationId\":\"a\" }\n", token: "t", app: "a"},
		{name: "duration", body: `{"duration":"PT5M"}`, duration: "PT5M"},
		{name: "case-insensitive names", body: `{"TOKEN":"t","ApplicationID":"a","DURATION":"PT1M"}`, token: "t", app: "a", duration: "PT1M"},
		{name: "single quotes", body: `{'token': 't', 'applicationId': 'a'}`, token: "t", app: "a"},
		{name: "single quotes with a double quote inside", body: `{'token': 'say "hi"', 'applicationId': 'it\'s'}`, token: `say "hi"`, app: "it's"},
		{name: "mixed quotes", body: `{"token": 't', 'applicationId': "a"}`, token: "t", app: "a"},
		{name: "escapes", body: `{"token":"a\"b\\c\/d\n\u00e9\ud83d\ude00"}`, token: "a\"b\\c/d\né😀"},
		{name: "lone surrogate", body: `{"token":"\ud800x"}`, token: "\uFFFDx"},
		{name: "not UTF-8", body: "{\"token\":\"a\xffb\"}", token: "a\uFFFDb"},
		{name: "other properties skipped", body: `{"x":{"y":[1,-2.5e+3,true,false,null,"s",'q',{}]},"token":"t","z":[]}`, token: "t"},
		{name: "last of a repeated name wins", body: `{"token":"a","TOKEN":"b"}`, token: "b"},
		{name: "null leaves a property unset", body: `{"token":"t","applicationId":null}`, token: "t"},
		{name: "null after a value keeps it", body: `{"token":"t","token":null}`, token: "t"},
		{name: "unbalanced", body: `{'token: 't'`, bad: true},
		{name: "unterminated", body: `{"token":"t"`, bad: true},
		{name: "trailing comma", body: `{"token":"t",}`, bad: true},
		{name: "trailing data", body: `{"token":"t"} x`, bad: true},
		{name: "two objects", body: `{}{}`, bad: true},
		{name: "not an object", body: `["token"]`, bad: true},
		{name: "number token", body: `{"token":5}`, bad: true},
		{name: "object token", body: `{"token":{"a":"b"}}`, bad: true},
		{name: "bad number", body: `{"x":01}`, bad: true},
		{name: "bad escape", body: `{"x":"\x"}`, bad: true},
		{name: "bad unicode escape", body: `{"token":"\u12"}`, bad: true},
		{name: "control character", body: "{\"token\":\"a\nb\"}", bad: true},
		{name: "unquoted name", body: `{token:"t"}`, bad: true},
		{name: "null", body: `null`, bad: true},
		{name: "empty", body: ``, bad: true},
		{name: "form encoded", body: `token=t&applicationId=a`, bad: true},
		{name: "too deep", body: `{"x":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}`, bad: true},
		{name: "deep enough", body: `{"x":` + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + `}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := decodeRequest([]byte(tt.body))
			if tt.bad {
				if err == nil {
					t.Fatalf("decoded %+v, want an error", r)
				}
				return
			}
			if err != nil || string(r.token) != tt.token || r.applicationID != tt.app || r.duration != tt.duration {
				t.Fatalf("got %+v, %v; want token %q app %q duration %q", r, err, tt.token, tt.app, tt.duration)
			}
		})
	}
}

func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{
		`{"token":"t","applicationId":"a"}`, `{'token': 't'}`, `{'a\'b': "c\"d"}`, `{"x":[1,{"y":null}],"Duration":"PT5M"}`,
		`{"token":"\ud83d\ude00\u00e9"}`, `{"token":"a","TOKEN":null}`, "{\"to\u212aen\":\"kelvin\"}", `{`, `'`, `null`, `{"x":-0.5E-7}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := decodeRequest(body)
		r := d.wire()
		if err != nil && r != (tool.EntitlementRequest{}) {
			t.Fatalf("decoding %q failed (%v) yet returned %+v", body, err, r)
		}
		// The decoder must agree with encoding/json on every strict JSON
		// body.
		var std tool.EntitlementRequest
		stdErr := json.Unmarshal(body, &std)
		if stdErr == nil && bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("{")) {
			if err != nil || r != std {
				t.Fatalf("%q: got %+v, %v; encoding/json reads %+v", body, r, err, std)
			}
		}
		if err == nil && stdErr != nil && !bytes.Contains(body, []byte("'")) {
			t.Fatalf("%q accepted, but it is strict JSON that encoding/json refuses: %v", body, stdErr)
		}
	})
}

// wire is the request as encoding/json would read it into the wire type.
func (r request) wire() tool.EntitlementRequest {
	return tool.EntitlementRequest{Token: string(r.token), ApplicationID: r.applicationID, Duration: r.duration}
}

// BenchmarkDecodeRequest weighs decodeRequest against what it would be
// replaced by: encoding/json, with a second pass over single-quoted bodies
// rewritten in double quotes (the reference's own examples use them).
func BenchmarkDecodeRequest(b *testing.B) {
	tok := strings.Repeat("eyJhbGciOiJSU0EtT0FFUCJ9.", 60)
	for _, body := range []struct{ name, json string }{
		{"double-quoted", `{"token":"` + tok + `","applicationId":"contosoapp"}`},
		{"single-quoted", `{'token':'` + tok + `','applicationId':'contosoapp'}`},
	} {
		data := []byte(body.json)
		for _, dec := range []struct {
			name   string
			decode func([]byte) error
		}{
			{"decodeRequest", func(b []byte) error { _, err := decodeRequest(b); return err }},
			{"encoding-json-with-fallback", func(b []byte) error { _, err := jsonWithFallback(b); return err }},
		} {
			b.Run(body.name+"/"+dec.name, func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				for b.Loop() {
					if err := dec.decode(data); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// jsonWithFallback is encoding/json, and for a body it refuses that has a
// single quote, encoding/json again on the body with its single-quoted
// strings rewritten in double quotes.
func jsonWithFallback(body []byte) (tool.EntitlementRequest, error) {
	var r tool.EntitlementRequest
	err := json.Unmarshal(body, &r)
	if err != nil && bytes.IndexByte(body, '\'') >= 0 {
		r = tool.EntitlementRequest{}
		err = json.Unmarshal(requote(body), &r)
	}
	return r, err
}

// requote rewrites single-quoted strings in double quotes.
func requote(body []byte) []byte {
	out := make([]byte, 0, len(body)+8)
	var q byte // the quote of the string being read, 0 outside one
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case q == 0 && (c == '"' || c == '\''):
			q = c
			out = append(out, '"')
		case q != 0 && c == '\\' && i+1 < len(body):
			i++
			if body[i] == '\'' {
				out = append(out, '\'')
			} else {
				out = append(out, '\\', body[i])
			}
		case q == '\'' && c == '"':
			out = append(out, '\\', '"')
		case q != 0 && c == q:
			q = 0
			out = append(out, '"')
		default:
			out = append(out, c)
		}
	}
	return out
}

// TestJSONWithFallback checks the benchmark's baseline: it must read what
// decodeRequest reads for the comparison to mean anything.
func TestJSONWithFallback(t *testing.T) {
	for _, body := range []string{
		`{"token":"t","applicationId":"a"}`, `{'token': 't', 'applicationId': 'a'}`,
		`{'token': 'say "hi"', 'applicationId': 'it\'s'}`, `{"token": 't', 'applicationId': "a"}`,
	} {
		d, err := decodeRequest([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		want := d.wire()
		if got, err := jsonWithFallback([]byte(body)); err != nil || got != want {
			t.Errorf("%s: got %+v, %v; want %+v", body, got, err, want)
		}
	}
}
