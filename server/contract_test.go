package server

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/seskit/ses/internal/contract"
	"github.com/seskit/ses/tool"
)

// TestContractCatches checks that the contract check refuses answers that
// break the document.
func TestContractCatches(t *testing.T) {
	c, err := contract.Load(func() ([]byte, error) { return openAPIDocument, nil })
	if err != nil {
		t.Fatal(err)
	}
	js := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	notFound := `{"code":"NotFound","message":{"lang":"en-us","value":"The requested resource does not exist."}}`
	v1 := `{"id":"entitlement-aef61648-5350-4357-b1d8-40a3829d9811","vmid":"vm-42"}`
	v2 := `{"id":"entitlement-aef61648-5350-4357-b1d8-40a3829d9811","expiry":"2026-11-29T10:17:20Z"}`
	tests := []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
		ok                 bool
	}{
		{"v1 answer to 5.0", "POST", "/softwareEntitlements?api-version=2017-05-01.5.0", 200, js, v1, true},
		{"v2 answer to 6.0, path in another case", "POST", "/SoftwareEntitlements/?API-Version=2017-09-01.6.0", 200, js, v2, true},
		{"v2 answer to 5.0", "POST", "/softwareEntitlements?api-version=2017-05-01.5.0", 200, js, v2, false},
		{"v1 answer to the leasing version", "POST", "/softwareEntitlements?api-version=" + tool.LeaseAPIVersion, 200, js, v1, false},
		{"200 to an unknown api-version", "POST", "/softwareEntitlements?api-version=1999-01-01", 200, js, v2, false},
		{"a property more", "POST", "/softwareEntitlements?api-version=2017-09-01.6.0", 200, js, `{"id":"x","expiry":"2026-11-29T10:17:20Z","more":1}`, false},
		{"a status not listed", "POST", "/softwareEntitlements?api-version=2017-09-01.6.0", 418, js, notFound, false},
		{"a code not of its status", "POST", "/softwareEntitlements?api-version=2017-09-01.6.0", 403, js, notFound, false},
		{"text where JSON is due", "POST", "/softwareEntitlements?api-version=2017-09-01.6.0", 200, http.Header{"Content-Type": {"text/plain"}}, "ok", false},
		{"401 without WWW-Authenticate", "GET", "/admin/leases", 401, js, `{"code":"Unauthorized","message":{"lang":"en-us","value":"x"}}`, false},
		{"401 with WWW-Authenticate", "GET", "/admin/leases", 401, http.Header{"Content-Type": {"application/json"}, "Www-Authenticate": {"WRAP"}},
			`{"code":"Unauthorized","message":{"lang":"en-us","value":"x"}}`, true},
		{"a body on a 204", "DELETE", "/softwareEntitlements/0123456789abcdef0123456789abcdef?api-version=" + tool.LeaseAPIVersion, 204, js, v2, false},
		{"an unknown path refused", "GET", "/elsewhere", 404, js, notFound, true},
		{"an unknown path served", "GET", "/usage", 200, js, `[]`, false},
		{"an unknown path answered as a page", "GET", "/elsewhere", 200, http.Header{"Content-Type": {"text/html"}}, "<p>", false},
		{"another method refused", "GET", "/softwareEntitlements", 405, http.Header{"Content-Type": {"application/json"}, "Allow": {"POST"}},
			`{"code":"MethodNotAllowed","message":{"lang":"en-us","value":"x"}}`, true},
		{"Allow naming a method the document lacks", "PUT", "/softwareEntitlements", 405, http.Header{"Content-Type": {"application/json"}, "Allow": {"POST, PUT"}},
			`{"code":"MethodNotAllowed","message":{"lang":"en-us","value":"x"}}`, false},
		{"another method served", "PUT", "/softwareEntitlements", 200, js, v2, false},
		{"HEAD as GET", "HEAD", "/", 200, http.Header{"Content-Type": {"text/html; charset=utf-8"}}, "", true},
		{"HEAD with a status GET lacks", "HEAD", "/", 404, http.Header{"Content-Type": {"text/html; charset=utf-8"}}, "", false},
		{"HEAD where there is no GET", "HEAD", "/softwareEntitlements", 200, js, "", false},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(tt.method, tt.path, nil)
		err := c.Check(req, tt.status, tt.header, []byte(tt.body))
		if (err == nil) != tt.ok {
			t.Errorf("%s: %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
	// A well-formed answer with the wrong body fails a fixture's test too.
	inner := &failures{TB: t}
	h := c.Handler(inner, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"id": "x", "vmId": "y"})
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/softwareEntitlements?api-version=2017-05-01.5.0", bytes.NewReader(nil)))
	if len(inner.errs) == 0 || w.Code != 200 || !strings.Contains(w.Body.String(), "vmId") {
		t.Errorf("the checked handler: errors %q, %d %s; want one, and the answer passed on", inner.errs, w.Code, w.Body.String())
	}
}

// failures is a test whose errors are kept, not reported.
type failures struct {
	testing.TB
	errs []string
}

func (f *failures) Errorf(format string, args ...any) {
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}
