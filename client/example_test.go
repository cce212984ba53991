package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/seskit/ses/client"
)

// A vendor's program gates itself on the entitlement Batch gives its task:
// it runs only when the endpoint, reached over a pinned TLS chain, says yes.
func Example() {
	c, err := client.New(client.Options{URL: os.Getenv(client.EnvURL)})
	if err != nil {
		log.Fatal(err) // not a Batch host, or a malformed URL: nothing was sent
	}
	ent, err := c.Check(context.Background(), os.Getenv(client.EnvToken), "contosoapp")
	var denied *client.DeniedError
	switch {
	case errors.As(err, &denied):
		fmt.Println("not entitled:", denied.Message)
		os.Exit(1)
	case err != nil:
		// Untrusted, unreachable or unexpected: not a "no", but no "yes".
		log.Fatal(err)
	}
	fmt.Println("entitled until", ent.Expiry)
}

// The URL rules and the host list are checked before any connection.
func ExampleNew() {
	_, err := client.New(client.Options{URL: "https://licensing.example.com"})
	var untrusted *client.UntrustedError
	fmt.Println(errors.As(err, &untrusted))
	_, err = client.New(client.Options{URL: "http://demo.westus.batch.azure.com"})
	fmt.Println(err)
	// Output:
	// true
	// server not trusted: URL "http://demo.westus.batch.azure.com" is not https
}
