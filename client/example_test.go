package client_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/seskit/ses/client"
	"github.com/seskit/ses/tool"
)

// A vendor's program gates itself on the entitlement Batch gives its task:
// it runs only when the endpoint, reached over a pinned TLS chain, says yes.
// In a task, Options{URL: os.Getenv(client.EnvURL)} and the token from
// os.Getenv(client.EnvToken) are all it takes; here a stand-in endpoint on
// this machine answers, trusted and pinned explicitly, as a test against
// `ses server` would do.
func Example() {
	endpoint := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(tool.EntitlementResponseV2{ID: "entitlement-1", Expiry: "2026-11-29T00:00:00Z"})
	}))
	defer endpoint.Close()
	u, _ := url.Parse(endpoint.URL)

	c, err := client.New(client.Options{
		URL:        endpoint.URL,
		AllowHosts: []string{u.Hostname()},
		ExtraRoots: []*x509.Certificate{endpoint.Certificate()},
		Pins:       []tool.Pin{tool.PinOf(endpoint.Certificate(), "stand-in endpoint")},
	})
	if err != nil {
		log.Fatal(err) // not a Batch host, or a malformed URL: nothing was sent
	}
	ent, err := c.Check(context.Background(), "the task's token", "contosoapp")
	var denied *client.DeniedError
	switch {
	case errors.As(err, &denied):
		fmt.Println("not entitled:", denied.Message)
		return
	case err != nil:
		// Untrusted, unreachable or unexpected: not a "no", but no "yes".
		log.Fatal(err)
	}
	fmt.Println("entitled:", ent.ID, "until", tool.FormatTime(ent.Expiry))
	// Output:
	// entitled: entitlement-1 until 2026-11-29T00:00:00Z
}

// The URL rules and the host list are checked before any connection.
func ExampleNew() {
	_, err := client.New(client.Options{URL: "https://licensing.example.com"})
	var untrusted *client.UntrustedError
	fmt.Println(errors.As(err, &untrusted), untrusted.RefusedHost)
	_, err = client.New(client.Options{URL: "http://demo.westus.batch.azure.com"})
	fmt.Println(err)
	// Output:
	// true licensing.example.com
	// server not trusted: URL "http://demo.westus.batch.azure.com" is not https
}
