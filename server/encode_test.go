package server

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/seskit/ses/tool"
)

// encoded is what json.Encoder writes for v.
func encoded(t *testing.T, v any) string {
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestAnswersAsEncodingJSON checks each hand-written answer against
// json.Encoder on the tool type it stands for.
func TestAnswersAsEncodingJSON(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 5, 0, 0, time.FixedZone("x", 7200))
	id := func(b []byte) string { // the fresh id an answer made
		var v struct{ ID string }
		json.Unmarshal(b, &v)
		return v.ID
	}
	b := appendV1(nil, `vm-"7"<&>`)
	if want := encoded(t, tool.EntitlementResponseV1{ID: id(b), VMID: `vm-"7"<&>`}); string(b) != want || !entitlementID.MatchString(id(b)) {
		t.Errorf("V1: %s, want %s", b, want)
	}
	b = appendV2(nil, at)
	if want := encoded(t, tool.EntitlementResponseV2{ID: id(b), Expiry: tool.FormatTime(at)}); string(b) != want || !entitlementID.MatchString(id(b)) {
		t.Errorf("V2: %s, want %s", b, want)
	}
	if b, want := appendAcquired(nil, "6e9e3bc200c7af6b91d9ad3657a78297", at), encoded(t, tool.LeaseAcquireResponse{EntitlementID: "6e9e3bc200c7af6b91d9ad3657a78297", InitialExpiryTime: tool.FormatTime(at)}); string(b) != want {
		t.Errorf("acquired: %s, want %s", b, want)
	}
	if b, want := appendRenewed(nil, at), encoded(t, tool.LeaseRenewResponse{ExpiryTime: tool.FormatTime(at)}); string(b) != want {
		t.Errorf("renewed: %s, want %s", b, want)
	}
	msg := "Duration \"P\u2028T\\x\" \x01\xff é 😀 is not <ok> & so on"
	if b, want := appendError(nil, tool.CodeNotFound, msg), encoded(t, tool.NewErrorResponse(tool.CodeNotFound, msg)); string(b) != want {
		t.Errorf("error: %s, want %s", b, want)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `"\`, "<a&b>", "\u2028\u2029", "\x00\x1f\x7f", "\xff\xfe", "é😀", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Fatalf("%q: %s, encoding/json writes %s", s, got, want)
		}
	})
}

// TestQueryValue checks queryValue against url.ParseQuery's reading.
func TestQueryValue(t *testing.T) {
	for _, tt := range []struct {
		query, value string
		found        bool
	}{
		{"api-version=1", "1", true},
		{"x=2&api-version=1", "1", true},
		{"api-version=1&api-version=2", "1", true},
		{"API-Version=2&api-version=1", "1", true},
		{"API-Version=2&Api-version=3", "2", true},
		{"api-version=", "", true},
		{"api-version", "", true},
		{"api%2Dversion=a%20b+c", "a b c", true},
		{"api-version=%zz&api-version=2", "2", true},
		{"api-version=1;x=2&API-VERSION=3", "3", true},
		{"", "", false},
		{"apiversion=1", "", false},
		{"&&", "", false},
	} {
		if v, ok := queryValue(tt.query, "api-version"); v != tt.value || ok != tt.found {
			t.Errorf("%q: %q %v, want %q %v", tt.query, v, ok, tt.value, tt.found)
		}
	}
}
