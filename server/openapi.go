package server

import (
	_ "embed"
	"net/http"
)

//go:generate go test -run ^TestOpenAPIDocument$ -update

// openAPIDocument is the OpenAPI 3.1 document of every path the server
// serves. TestOpenAPIDocument (openapi_gen_test.go) generates it from the
// wire contract and fails while the file differs; `go generate` rewrites
// it.
//
//go:embed openapi.json
var openAPIDocument []byte

// openAPI serves GET /openapi.json: the document, as it is in the
// repository.
func openAPI(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPIDocument)
}
