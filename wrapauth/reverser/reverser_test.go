package reverser

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/seskit/ses/tool"
	"github.com/seskit/ses/wrapauth"
)

func TestHandler(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	v, err := wrapauth.New(wrapauth.Config{Issuer: "https://ns/", Audience: "https://localhost/reverser", Keys: [][]byte{key}})
	if err != nil {
		t.Fatal(err)
	}
	token := func(actions ...string) string {
		return `WRAP access_token="` + tool.SignSWT(tool.SWT{Issuer: "https://ns/", Audience: "https://localhost/reverser",
			ExpiresOn: time.Now().Add(time.Hour), Claims: []tool.SWTClaim{{Name: "action", Values: actions}}}, key) + `"`
	}
	h := Handler(v)
	for _, tt := range []struct {
		method, path, auth, body string
		status                   int
		want                     string
	}{
		{"POST", "/reverse", token("reverse"), "hello, wörld", 200, "dlröw ,olleh"},
		{"POST", "/reverse", token("read"), "hello", 403, "does not grant action=reverse"},
		{"POST", "/reverse", "", "hello", 401, "no \"Authorization: WRAP"},
		{"POST", "/reverse", token("reverse"), "\xff", 400, "UTF-8"},
		{"GET", "/reverse", token("reverse"), "", 405, ""},
		{"GET", "/healthz", "", "", 200, "ok"},
	} {
		r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
		if tt.auth != "" {
			r.Header.Set("Authorization", tt.auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		body, _ := io.ReadAll(w.Body)
		if w.Code != tt.status || !strings.Contains(string(body), tt.want) {
			t.Errorf("%s %s %q: %d %q, want %d %q", tt.method, tt.path, tt.body, w.Code, body, tt.status, tt.want)
		}
	}
}
