package wrapauth_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/seskit/ses/tool"
	"github.com/seskit/ses/wrapauth"
)

// A service that greets the caller its token names. The token would come
// from `ses client wrap`; here it is signed with the policy key directly.
func ExampleValidator_Handler() {
	policyKey, _ := tool.ParseSWTKey("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=")
	v, err := wrapauth.New(wrapauth.Config{
		Issuer:   "https://ses-acs.localhost/",
		Audience: "https://localhost/greeter",
		Keys:     [][]byte{policyKey},
	})
	if err != nil {
		panic(err)
	}
	greet := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := wrapauth.FromContext(r.Context())
		fmt.Fprintf(w, "hello, %s", strings.Join(tok.Values("name"), " and "))
	})
	srv := httptest.NewServer(v.Handler(greet))
	defer srv.Close()

	token := tool.SignSWT(tool.SWT{Issuer: "https://ses-acs.localhost/", Audience: "https://localhost/greeter",
		ExpiresOn: time.Now().Add(time.Hour), Claims: []tool.SWTClaim{{Name: "name", Values: []string{"Ann"}}}}, policyKey)
	for _, auth := range []string{`WRAP access_token="` + token + `"`, ""} {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, strings.TrimSpace(string(body)))
	}
	// Output:
	// 200 hello, Ann
	// 401 no "Authorization: WRAP access_token=..." header
}
