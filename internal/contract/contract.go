// Package contract checks answers of `ses server` against its OpenAPI
// document (server/openapi.json), for the tests: the server tests pass
// every response through Handler, the scripts' https command through
// Check.
//
// A documented operation's answer must be one the document lists for it:
// status, headers, content type and body (kin-openapi's openapi3filter,
// JSON Schema 2020-12), and a 200 of the entitlement endpoint the shape of
// its api-version (the x-api-versions of each answer's schema); HEAD is
// held to GET, without the body. A path or
// method the document lacks may only be refused: 401, 404 or 405 (whose
// Allow names documented methods only), a JSON body being an
// ErrorResponse; anything else it serves fails, so a new path fails the
// tests until the document describes it.
package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

func init() {
	// The pages are text to the checker: their schema is a string.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
}

// Checker holds a loaded document.
type Checker struct {
	doc   *openapi3.T
	paths []docPath
}

// docPath is one path of the document, split into segments as the server
// matches them (lower case); a "{name}" segment matches any one.
type docPath struct {
	template string
	segments []string
	item     *openapi3.PathItem
}

// New loads and validates a document.
func New(doc []byte) (*Checker, error) {
	loader := openapi3.NewLoader()
	d, err := loader.LoadFromData(doc)
	if err != nil {
		return nil, fmt.Errorf("loading the document: %w", err)
	}
	if err := d.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("the document is not valid: %w", err)
	}
	c := &Checker{doc: d}
	for template, item := range d.Paths.Map() {
		c.paths = append(c.paths, docPath{template: template, segments: split(template), item: item})
	}
	// Literal segments before parameters, so that a literal path wins.
	slices.SortFunc(c.paths, func(a, b docPath) int { return strings.Compare(b.template, a.template) })
	return c, nil
}

var (
	loadOnce sync.Once
	loaded   *Checker
	loadErr  error
)

// Load is New, once per process, of the document read by read.
func Load(read func() ([]byte, error)) (*Checker, error) {
	loadOnce.Do(func() {
		doc, err := read()
		if err != nil {
			loadErr = err
			return
		}
		loaded, loadErr = New(doc)
	})
	return loaded, loadErr
}

// split is a path's segments as the server compares them: lower case,
// without a final "/".
func split(path string) []string {
	p := strings.TrimRight(strings.ToLower(path), "/")
	if p == "" {
		return nil
	}
	return strings.Split(strings.TrimPrefix(p, "/"), "/")
}

// route finds the documented path of a request path, and its parameters.
func (c *Checker) route(path string) (*docPath, map[string]string) {
	segs := split(path)
	for i := range c.paths {
		p := &c.paths[i]
		if len(p.segments) != len(segs) {
			continue
		}
		params := map[string]string{}
		ok := true
		for j, s := range p.segments {
			switch {
			case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") && segs[j] != "":
				params[strings.Trim(s, "{}")] = segs[j]
			case s != segs[j]:
				ok = false
			}
			if !ok {
				break
			}
		}
		if ok {
			return p, params
		}
	}
	return nil, nil
}

// Check reports how an answer to req breaks the document: nil when it
// keeps it.
func (c *Checker) Check(req *http.Request, status int, header http.Header, body []byte) error {
	what := fmt.Sprintf("%s %s answered %d", req.Method, req.URL.Path, status)
	p, params := c.route(req.URL.Path)
	if p == nil {
		if err := c.refusal(status, header, body, nil); err != nil {
			return fmt.Errorf("%s, but the document has no such path (add it to server/openapi_gen_test.go and run go generate ./server): %w", what, err)
		}
		return nil
	}
	method := req.Method
	if method == http.MethodHead && p.item.Get != nil {
		method = http.MethodGet // HEAD is GET without the body
	}
	op := p.item.GetOperation(method)
	if op == nil {
		if err := c.refusal(status, header, body, p.item); err != nil {
			return fmt.Errorf("%s, but the document has no %s for %s: %w", what, req.Method, p.template, err)
		}
		return nil
	}
	route := &routers.Route{Spec: c.doc, Path: p.template, PathItem: p.item, Method: method, Operation: op}
	if err := c.operation(req, route, params, status, header, body); err != nil {
		return fmt.Errorf("%s, which the document's %s %s does not allow: %w", what, method, p.template, err)
	}
	return nil
}

// operation checks an answer of a documented operation.
func (c *Checker) operation(req *http.Request, route *routers.Route, params map[string]string, status int, header http.Header, body []byte) error {
	resp := route.Operation.Responses.Status(status)
	if resp == nil || resp.Value == nil {
		return fmt.Errorf("status %d is not among its responses", status)
	}
	if req.Method == http.MethodHead {
		body = nil // net/http drops what a handler writes
	}
	if len(resp.Value.Content) == 0 && len(body) > 0 {
		return fmt.Errorf("a body where the document has none: %.80q", body)
	}
	if len(resp.Value.Content) > 0 && resp.Value.Content.Get(header.Get("Content-Type")) == nil {
		return fmt.Errorf("the Content-Type %q is not among %v", header.Get("Content-Type"), slices.Sorted(maps.Keys(resp.Value.Content)))
	}
	if req.Method == http.MethodHead {
		return nil
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                opts,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return err
	}
	return c.apiVersionShape(req, resp.Value, header, body)
}

// apiVersionShape checks a JSON answer whose schema is one of several
// with x-api-versions against the one of the request's api-version.
func (c *Checker) apiVersionShape(req *http.Request, resp *openapi3.Response, header http.Header, body []byte) error {
	media := resp.Content.Get(header.Get("Content-Type"))
	if media == nil || media.Schema == nil || media.Schema.Value == nil || len(media.Schema.Value.OneOf) == 0 {
		return nil
	}
	var version string
	for k, vs := range req.URL.Query() {
		if strings.EqualFold(k, "api-version") && len(vs) > 0 {
			version = vs[0]
		}
	}
	var value any
	if err := json.Unmarshal(body, &value); err != nil {
		return err
	}
	for _, alt := range media.Schema.Value.OneOf {
		versions, _ := alt.Value.Extensions["x-api-versions"].([]any)
		if !slices.Contains(versions, any(version)) {
			continue
		}
		if err := alt.Value.VisitJSON(value, openapi3.EnableJSONSchema2020(), openapi3.VisitAsResponse()); err != nil {
			return fmt.Errorf("not the shape of api-version %s (%s): %w", version, alt.Ref, err)
		}
		return nil
	}
	return fmt.Errorf("no answer's schema lists api-version %q in x-api-versions", version)
}

// refusals are the statuses an undocumented path or method may get, with
// the error code each carries.
var refusals = map[int]string{
	http.StatusUnauthorized:     "Unauthorized",
	http.StatusNotFound:         "NotFound",
	http.StatusMethodNotAllowed: "MethodNotAllowed",
}

// refusal checks the answer to a path or method the document lacks: a
// refusal, whose JSON body is an ErrorResponse, and whose Allow header
// names documented methods of item only.
func (c *Checker) refusal(status int, header http.Header, body []byte, item *openapi3.PathItem) error {
	code, ok := refusals[status]
	if !ok {
		return errors.New("only 401, 404 and 405 may answer what the document lacks")
	}
	if status == http.StatusMethodNotAllowed {
		allow := strings.Split(header.Get("Allow"), ",")
		for _, m := range allow {
			m = strings.TrimSpace(m)
			if item == nil || item.GetOperation(m) == nil && !(m == http.MethodHead && item.Get != nil) {
				return fmt.Errorf("the Allow header %q names %q, which the document lacks", header.Get("Allow"), m)
			}
		}
	}
	if mt, _, _ := mime.ParseMediaType(header.Get("Content-Type")); mt != "application/json" {
		return nil
	}
	var value map[string]any
	if err := json.Unmarshal(body, &value); err != nil {
		return fmt.Errorf("a JSON body that is not an object: %w", err)
	}
	schema := c.doc.Components.Schemas["ErrorResponse"]
	if schema == nil {
		return errors.New("the document has no ErrorResponse")
	}
	if err := schema.Value.VisitJSON(value, openapi3.EnableJSONSchema2020(), openapi3.VisitAsResponse()); err != nil {
		return fmt.Errorf("the body is not an ErrorResponse: %w", err)
	}
	if value["code"] != code {
		return fmt.Errorf("code %v with status %d, want %s", value["code"], status, code)
	}
	return nil
}

// Handler passes every answer of h through c, failing t for one that
// breaks the document. Answers are held until h returns.
func (c *Checker) Handler(t testing.TB, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{header: http.Header{}}
		h.ServeHTTP(rec, r)
		if err := c.Check(r, rec.code(), rec.header, rec.body.Bytes()); err != nil {
			t.Errorf("contract: %v", err)
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.code())
		w.Write(rec.body.Bytes())
	})
}

// recorder holds an answer.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

func (r *recorder) code() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}
