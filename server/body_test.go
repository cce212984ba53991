package server

import (
	"testing"
)

func TestDecodeRequest(t *testing.T) {
	tests := []struct {
		name, body string
		token, app string
		bad        bool
	}{
		{name: "plain", body: `{"token":"t","applicationId":"a"}`, token: "t", app: "a"},
		{name: "case-insensitive names", body: `{"TOKEN":"t","ApplicationID":"a"}`, token: "t", app: "a"},
		{name: "single quotes", body: `{'token': 't', 'applicationId': 'a'}`, token: "t", app: "a"},
		{name: "single quotes with a double quote inside", body: `{'token': 'say "hi"', 'applicationId': 'it\'s'}`, token: `say "hi"`, app: "it's"},
		{name: "mixed quotes", body: `{"token": 't', 'applicationId': "a"}`, token: "t", app: "a"},
		{name: "missing app", body: `{"token":"t"}`, token: "t"},
		{name: "null app", body: `{"token":"t","applicationId":null}`, token: "t"},
		{name: "unbalanced", body: `{'token: 't'`, bad: true},
		{name: "not an object", body: `["token"]`, bad: true},
		{name: "number token", body: `{"token":5}`, bad: true},
		{name: "null", body: `null`, bad: true},
		{name: "garbage", body: `token=t&applicationId=a`, bad: true},
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
			if err != nil || r.Token != tt.token || r.ApplicationID != tt.app {
				t.Fatalf("got %+v, %v; want token %q app %q", r, err, tt.token, tt.app)
			}
		})
	}
}

func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{`{"token":"t","applicationId":"a"}`, `{'token': 't'}`, `{'a\'b': "c\"d"}`, `{`, `'`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := decodeRequest(body)
		if err != nil && (r.Token != "" || r.ApplicationID != "" || r.Duration != "") {
			t.Fatalf("decoding %q failed (%v) yet returned %+v", body, err, r)
		}
	})
}
