package server

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seskit/ses/internal/goconst"
	"github.com/seskit/ses/tool"
)

// This file generates openapi.json from the wire contract: the paths, the
// api-version table, the bodies' Go types, the error codes and the status
// of each reason come from tool and this package; what is written here is
// the prose and which reasons each operation answers with. A path the
// server begins to serve goes in paths below; the contract tests
// (internal/contract) fail until it does.

var update = flag.Bool("update", false, "rewrite openapi.json from the wire contract")

// documentVersion is the version of the contract the document describes:
// the ses release that last changed it (CHANGELOG.md).
const documentVersion = "1.0.0"

// TestOpenAPIDocument generates the document and fails while openapi.json
// differs from it; with -update (go generate ./server) it writes the file.
func TestOpenAPIDocument(t *testing.T) {
	got := generateOpenAPI(t)
	if *update {
		if err := os.WriteFile("openapi.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		i := 0
		for i < len(gl) && i < len(wl) && gl[i] == wl[i] {
			i++
		}
		line := func(l []string) string {
			if i < len(l) {
				return strings.TrimSpace(l[i])
			}
			return "(end of file)"
		}
		t.Fatalf("openapi.json is not what the wire contract gives; run `go generate ./server`.\nline %d: the file has  %s\n         the contract gives %s", i+1, line(wl), line(gl))
	}
}

// The OpenAPI 3.1 objects the document is made of, fields in the order
// they are written.
type (
	oaDoc struct {
		OpenAPI    string             `json:"openapi"`
		Info       oaInfo             `json:"info"`
		Servers    []oaServer         `json:"servers"`
		Tags       []oaTag            `json:"tags"`
		Paths      map[string]*oaPath `json:"paths"`
		Components oaComponents       `json:"components"`
	}
	oaInfo struct {
		Title       string    `json:"title"`
		Summary     string    `json:"summary"`
		Description string    `json:"description"`
		License     oaLicense `json:"license"`
		Version     string    `json:"version"`
	}
	oaLicense struct {
		Name       string `json:"name"`
		Identifier string `json:"identifier"`
	}
	oaServer struct {
		URL         string `json:"url"`
		Description string `json:"description"`
	}
	oaTag struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	oaPath struct {
		Get    *oaOp `json:"get,omitempty"`
		Post   *oaOp `json:"post,omitempty"`
		Delete *oaOp `json:"delete,omitempty"`
	}
	oaOp struct {
		Tags        []string               `json:"tags"`
		Summary     string                 `json:"summary"`
		Description string                 `json:"description"`
		OperationID string                 `json:"operationId"`
		Parameters  []*oaParam             `json:"parameters,omitempty"`
		RequestBody *oaBody                `json:"requestBody,omitempty"`
		Responses   map[string]*oaResponse `json:"responses"`
		Security    []map[string][]string  `json:"security"`
	}
	oaParam struct {
		Name        string    `json:"name"`
		In          string    `json:"in"`
		Description string    `json:"description"`
		Required    bool      `json:"required"`
		Schema      *oaSchema `json:"schema"`
	}
	oaBody struct {
		Description string             `json:"description"`
		Required    bool               `json:"required"`
		Content     map[string]oaMedia `json:"content"`
	}
	oaMedia struct {
		Schema   *oaSchema            `json:"schema,omitempty"`
		Examples map[string]oaExample `json:"examples,omitempty"`
	}
	oaExample struct {
		Summary string `json:"summary"`
		Value   any    `json:"value"`
	}
	oaResponse struct {
		Description string              `json:"description"`
		Headers     map[string]oaHeader `json:"headers,omitempty"`
		Content     map[string]oaMedia  `json:"content,omitempty"`
		Reasons     []tool.Reason       `json:"x-reasons,omitempty"`
	}
	oaHeader struct {
		Description string    `json:"description"`
		Required    bool      `json:"required"`
		Schema      *oaSchema `json:"schema"`
	}
	oaSchema struct {
		Ref                  string               `json:"$ref,omitempty"`
		Type                 any                  `json:"type,omitempty"`
		Description          string               `json:"description,omitempty"`
		Format               string               `json:"format,omitempty"`
		Pattern              string               `json:"pattern,omitempty"`
		Enum                 []string             `json:"enum,omitempty"`
		Properties           map[string]*oaSchema `json:"properties,omitempty"`
		Required             []string             `json:"required,omitempty"`
		AdditionalProperties *bool                `json:"additionalProperties,omitempty"`
		Items                *oaSchema            `json:"items,omitempty"`
		OneOf                []*oaSchema          `json:"oneOf,omitempty"`
		AllOf                []*oaSchema          `json:"allOf,omitempty"`
		APIVersions          []string             `json:"x-api-versions,omitempty"`
	}
	oaComponents struct {
		Schemas         map[string]*oaSchema  `json:"schemas"`
		SecuritySchemes map[string]oaSecurity `json:"securitySchemes"`
	}
	oaSecurity struct {
		Type        string `json:"type"`
		Scheme      string `json:"scheme"`
		Description string `json:"description"`
	}
)

// declared lists the string constants of type typ declared in tool's
// source, in their order.
func declared(t *testing.T, typ string) []string {
	t.Helper()
	out, err := goconst.Declared("../tool", typ)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("no constants of type %s in tool", typ)
	}
	return out
}

// gen builds the document.
type gen struct {
	t       *testing.T
	schemas map[string]*oaSchema
	// enums are the values of tool's string types, as the wire carries
	// them.
	enums map[reflect.Type][]string
	// used are the reasons some operation answers with; statuses the
	// statuses each error code is answered with.
	used     map[tool.Reason]bool
	statuses map[tool.ErrorCode][]int
}

// field is what the document says of one property: its description, and
// the format or pattern of a string.
type field struct{ desc, format, pattern string }

// leaseIDPattern is a lease id as the server writes it.
var leaseIDPattern = fmt.Sprintf("^[0-9a-f]{%d}$", tool.LeaseIDLength)

// fields describes every property of every body, by schema and property
// name. A property missing here fails the test.
var fields = map[string]field{
	"EntitlementRequest.token":         {desc: "The entitlement token: the nested JWT (a JWE holding a signed JWT) the task finds in `AZ_BATCH_SOFTWARE_ENTITLEMENT_TOKEN`."},
	"EntitlementRequest.applicationId": {desc: "The application the task asks to run. The token must entitle it (compared without case)."},
	"EntitlementRequest.duration": {format: "duration", desc: "How long a lease should last, in ISO 8601 (`PT5M`): required with api-version `" + tool.LeaseAPIVersion +
		"`, which acquires a lease, and not read with the others. Positive, and at most the server's `--max-lease`."},
	"LeaseRenewRequest.duration":   {format: "duration", desc: "How much longer the lease should last, from now, in ISO 8601 (`PT5M`). Positive, and at most the server's `--max-lease`."},
	"EntitlementResponseV1.id":     {desc: "The entitlement's id: `entitlement-` and a random UUID."},
	"EntitlementResponseV1.vmid":   {desc: "The token's `vmid` claim, else a random GUID, as production answered: clients built for these api-versions need one."},
	"EntitlementResponseV2.id":     {desc: "The entitlement's id: `entitlement-` and a random UUID."},
	"EntitlementResponseV2.expiry": {format: "date-time", desc: "The token's expiry (RFC 3339, UTC, to the second)."},
	"LeaseAcquireResponse.entitlementId": {pattern: leaseIDPattern,
		desc: "The lease's id, " + strconv.Itoa(tool.LeaseIDLength) + " hexadecimal digits: renew or release the lease at `" + tool.PathEntitlements + "/{id}`."},
	"LeaseAcquireResponse.initialExpiryTime": {format: "date-time", desc: "When the lease ends unless renewed: now plus the duration, never past the token's expiry."},
	"LeaseRenewResponse.expiryTime":          {format: "date-time", desc: "When the lease now ends: now plus the duration, never past the token's expiry."},
	"ErrorResponse.code":                     {desc: "What went wrong, for programs."},
	"ErrorResponse.message":                  {desc: "What went wrong, for people."},
	"ErrorMessage.lang":                      {desc: "The language of the message."},
	"ErrorMessage.value":                     {desc: "The message. A refused token gets `Entitlement for <app> was denied.` whatever the reason."},
	"Lease.id":                               {pattern: leaseIDPattern, desc: "The lease's id."},
	"Lease.app":                              {desc: "The application the lease is for."},
	"Lease.remote":                           {desc: "The address the lease was acquired from."},
	"Lease.expiry":                           {format: "date-time", desc: "When the lease ends unless renewed."},
	"Lease.released":                         {desc: "Present and true once the lease is released or revoked."},
	"Lease.acquired":                         {format: "date-time", desc: "When the lease was acquired (absent for a lease restored from a state file written before it was kept)."},
	"Decision.time":                          {format: "date-time", desc: "When the request was answered."},
	"Decision.method":                        {desc: "The request's method."},
	"Decision.path":                          {desc: "The request's path, a lease id in it shown as the lease's fingerprint in braces (`/softwareEntitlements/{1a2b3c4d}`)."},
	"Decision.apiVersion":                    {desc: "The api-version asked for, as sent (empty when missing)."},
	"Decision.app":                           {desc: "The application asked for, or the lease's."},
	"Decision.remote":                        {desc: "The caller's address: the TCP peer."},
	"Decision.status":                        {desc: "The HTTP status answered."},
	"Decision.decision":                      {desc: "What the server decided."},
	"Decision.reasons":                       {desc: "The reason codes of a refusal (README.md has the table); null when approved."},
	"UsageRecord.time":                       {format: "date-time", desc: "When it happened (RFC 3339, UTC, to the millisecond): the request's answer, or a lease's expiry."},
	"UsageRecord.seq":                        {desc: "The record's number, in the order records were made, on across restarts with `--state`; 0 for an expiry `ses usage` found in a state file that no server recorded yet."},
	"UsageRecord.event":                      {desc: "A decision on a request (`entitlement`, `acquire`, `renew`, `release`, `revoke`) or a change of a lease (`acquired`, `renewed`, `released`, `expired`)."},
	"UsageRecord.app":                        {desc: "The application asked for, or the lease's (at most 256 bytes kept)."},
	"UsageRecord.peer":                       {desc: "The caller's address (the TCP peer); for a lease change, the address that acquired the lease."},
	"UsageRecord.apiVersion":                 {desc: "The api-version asked for, as sent; absent for a lease change."},
	"UsageRecord.status":                     {desc: "The HTTP status answered; absent for a lease change."},
	"UsageRecord.outcome":                    {desc: "What the server decided; absent for a lease change."},
	"UsageRecord.reason":                     {desc: "The reason code of a refusal (README.md has the table)."},
	"UsageRecord.explanation":                {desc: "Why it was refused: the verifier's explanation, as the log has it, or the message answered; never the token."},
	"UsageRecord.lease":                      {pattern: "^[0-9a-f]{8}$", desc: "The lease's fingerprint: the first 8 hex digits of the SHA-256 of its id. The id itself is never shown here."},
	"UsageRecord.expiry":                     {format: "date-time", desc: "For a lease change, the lease's expiry after it."},
	"UsageRecord.heldSeconds":                {desc: "For a lease change, how long the lease had been held, in seconds to the millisecond (absent when 0)."},
	"AppUsage.app":                           {desc: "The application (empty for requests refused before naming one; `" + OtherApps + "` past the first 1000)."},
	"AppUsage.approved":                      {desc: "Entitlement requests and lease acquisitions approved."},
	"AppUsage.denied":                        {desc: "Entitlement requests and lease acquisitions denied."},
	"AppUsage.errors":                        {desc: "Entitlement requests and lease acquisitions the server failed on."},
	"AppUsage.leases":                        {desc: "Leases acquired."},
	"AppUsage.active":                        {desc: "Leases active now."},
	"AppUsage.released":                      {desc: "Leases released or revoked."},
	"AppUsage.expired":                       {desc: "Leases that expired unreleased."},
	"AppUsage.heldSeconds":                   {desc: "The time the leases were held, in seconds: the ended ones' and the active ones' until now."},
	"UsageReport.records":                    {desc: "The records picked, oldest first."},
	"UsageReport.summary":                    {desc: "Their sums per application, by name, with the leases active now."},
	"UsageReport.totals":                     {desc: "The sums of all applications."},
	"StatusFeed.version":                     {desc: "The server's version line."},
	"StatusFeed.now":                         {format: "date-time", desc: "The server's time."},
	"StatusFeed.started":                     {format: "date-time", desc: "When the usage record started (the server's start)."},
	"StatusFeed.seq":                         {desc: "The number of the last record: ask with `after` set to it for what is new."},
	"StatusFeed.details":                     {desc: "Whether decisions and leases are shown: always without `--acs`; with it, to the holder of the admin token only."},
	"StatusFeed.totals":                      {desc: "The sums of all applications."},
	"StatusFeed.apps":                        {desc: "The sums per application, by name (with details)."},
	"StatusFeed.records":                     {desc: "The newest records after `after`, newest first, at most 200 (with details)."},
}

// component is the schema of a Go struct from its JSON tags, registered
// under name: every property described in fields, required unless
// omitempty, nothing else. only, when given, picks the properties.
func (g *gen) component(name string, typ reflect.Type, desc string, only ...string) *oaSchema {
	if _, ok := g.schemas[name]; !ok {
		f := false
		s := &oaSchema{Type: "object", Description: desc, Properties: map[string]*oaSchema{}, AdditionalProperties: &f}
		g.schemas[name] = s
		for i := range typ.NumField() {
			sf := typ.Field(i)
			tag := sf.Tag.Get("json")
			prop, opts, _ := strings.Cut(tag, ",")
			if prop == "" || prop == "-" {
				g.t.Fatalf("%s.%s has no JSON name", typ, sf.Name)
			}
			if len(only) > 0 && !slices.Contains(only, prop) {
				continue
			}
			fd, ok := fields[name+"."+prop]
			if !ok {
				g.t.Fatalf("say in fields what %s.%s is", name, prop)
			}
			ps := g.schemaOf(sf.Type)
			if ps.Ref == "" {
				ps.Description, ps.Format, ps.Pattern = fd.desc, fd.format, fd.pattern
			} else {
				ps = &oaSchema{AllOf: []*oaSchema{ps}, Description: fd.desc}
			}
			s.Properties[prop] = ps
			if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
				s.Required = append(s.Required, prop)
			}
		}
		for _, p := range only {
			if s.Properties[p] == nil {
				g.t.Fatalf("%s has no property %s", typ, p)
			}
		}
	}
	return &oaSchema{Ref: "#/components/schemas/" + name}
}

// schemaOf is the schema of a Go value as encoding/json writes it: a
// nil slice is null.
func (g *gen) schemaOf(typ reflect.Type) *oaSchema {
	if vals, ok := g.enums[typ]; ok {
		return &oaSchema{Type: "string", Enum: vals}
	}
	switch {
	case typ == reflect.TypeFor[time.Time](), typ == reflect.TypeFor[netip.Addr]():
		return &oaSchema{Type: "string"}
	case typ.Kind() == reflect.String:
		return &oaSchema{Type: "string"}
	case typ.Kind() == reflect.Bool:
		return &oaSchema{Type: "boolean"}
	case typ.Kind() >= reflect.Int && typ.Kind() <= reflect.Uint64:
		return &oaSchema{Type: "integer"}
	case typ.Kind() == reflect.Float64:
		return &oaSchema{Type: "number"}
	case typ.Kind() == reflect.Slice:
		return &oaSchema{Type: []string{"array", "null"}, Items: g.schemaOf(typ.Elem())}
	case typ.Kind() == reflect.Struct:
		return g.component(typ.Name(), typ, "")
	}
	g.t.Fatalf("no schema for %s", typ)
	return nil
}

// json is a JSON media type with schema s.
func jsonMedia(s *oaSchema) map[string]oaMedia {
	return map[string]oaMedia{"application/json": {Schema: s}}
}

func textMedia(desc string) map[string]oaMedia {
	return map[string]oaMedia{"text/plain": {Schema: &oaSchema{Type: "string", Description: desc}}}
}

// extra is an error answer that comes from no reason: the route's own.
type extra struct {
	status int
	code   tool.ErrorCode
	why    string
}

// statusWhy introduces each error status in a response's description.
var statusWhy = map[int]string{
	http.StatusBadRequest:            "A request the server cannot take.",
	http.StatusUnauthorized:          "No management token, or one that does not grant `" + tool.ActionManage + "` for the server's URL + `" + tool.PathAdmin + "`.",
	http.StatusForbidden:             "A check of the token or of the request failed; the body says only `Entitlement for <app> was denied.`",
	http.StatusNotFound:              "",
	http.StatusConflict:              "The lease can no longer be renewed, or (acquiring one) the token holds as many active leases as `--max-leases-per-token` allows.",
	http.StatusRequestEntityTooLarge: fmt.Sprintf("The body is larger than %d bytes; one declared larger is refused unread.", MaxBody),
	http.StatusInternalServerError:   "The server failed (a fault of its own, logged with its cause); the body says no more.",
}

// errors is the error answers to reasons and extras, one per status: the
// codes the status comes with, and the reasons, which go to the log and
// the status page but not into the body.
func (g *gen) errors(reasons []tool.Reason, extras ...extra) map[string]*oaResponse {
	type group struct {
		codes   []tool.ErrorCode
		reasons []tool.Reason
		whys    []string
	}
	groups := map[int]*group{}
	get := func(status int) *group {
		if groups[status] == nil {
			groups[status] = &group{}
		}
		return groups[status]
	}
	addCode := func(gr *group, status int, code tool.ErrorCode) {
		if !slices.Contains(gr.codes, code) {
			gr.codes = append(gr.codes, code)
		}
		if !slices.Contains(g.statuses[code], status) {
			g.statuses[code] = append(g.statuses[code], status)
		}
	}
	for _, r := range reasons {
		a, ok := r.Answer()
		if !ok {
			g.t.Fatalf("reason %s has no answer", r)
		}
		g.used[r] = true
		gr := get(a.Status)
		addCode(gr, a.Status, a.Code)
		gr.reasons = append(gr.reasons, r)
	}
	for _, e := range extras {
		gr := get(e.status)
		addCode(gr, e.status, e.code)
		gr.whys = append(gr.whys, e.why)
	}
	out := map[string]*oaResponse{}
	for status, gr := range groups {
		var desc []string
		if w := statusWhy[status]; w != "" {
			desc = append(desc, w)
		}
		for _, w := range gr.whys {
			if w != "" && !slices.Contains(desc, w) {
				desc = append(desc, w)
			}
		}
		if len(gr.reasons) > 0 {
			names := make([]string, len(gr.reasons))
			for i, r := range gr.reasons {
				names[i] = "`" + string(r) + "`"
			}
			desc = append(desc, "Reasons (logged and shown on the status page, not returned): "+strings.Join(names, ", ")+".")
		}
		codes := make([]string, len(gr.codes))
		for i, c := range gr.codes {
			codes[i] = string(c)
		}
		out[strconv.Itoa(status)] = &oaResponse{
			Description: strings.Join(desc, " "),
			Content: jsonMedia(&oaSchema{AllOf: []*oaSchema{
				{Ref: "#/components/schemas/ErrorResponse"},
				{Properties: map[string]*oaSchema{"code": {Enum: codes}}},
			}}),
			Reasons: gr.reasons,
		}
	}
	return out
}

// with adds the responses of more to responses.
func with(responses map[string]*oaResponse, more map[string]*oaResponse) map[string]*oaResponse {
	for k, v := range more {
		if responses[k] != nil {
			panic("two answers for status " + k)
		}
		responses[k] = v
	}
	return responses
}

// The tags.
const (
	tagEntitlements = "entitlements"
	tagLeases       = "leases"
	tagServer       = "server"
	tagACS          = "acs"
)

func generateOpenAPI(t *testing.T) []byte {
	g := &gen{t: t, schemas: map[string]*oaSchema{}, enums: map[reflect.Type][]string{},
		used: map[tool.Reason]bool{}, statuses: map[tool.ErrorCode][]int{}}
	var answered []string
	for _, r := range declared(t, "Reason") {
		if _, ok := tool.Reason(r).Answer(); ok {
			answered = append(answered, r)
		}
	}
	g.enums[reflect.TypeFor[tool.Reason]()] = answered
	g.enums[reflect.TypeFor[tool.Decision]()] = declared(t, "Decision")
	g.enums[reflect.TypeFor[tool.ErrorCode]()] = declared(t, "ErrorCode")
	g.enums[reflect.TypeFor[UsageEvent]()] = slices.Sorted(func(yield func(string) bool) {
		for e := range usageEvents {
			if !yield(string(e)) {
				return
			}
		}
	})

	// The api-versions and the answer of each.
	var names, v1, v2, lease []string
	for _, v := range tool.APIVersions {
		names = append(names, v.Name)
		switch {
		case v.Lease:
			lease = append(lease, v.Name)
		case v.VMID:
			v1 = append(v1, v.Name)
		default:
			v2 = append(v2, v.Name)
		}
	}
	code := func(s []string) string { return "`" + strings.Join(s, "`, `") + "`" }
	apiVersion := &oaParam{Name: tool.QueryAPIVersion, In: "query", Required: true,
		Schema: &oaSchema{Type: "string", Enum: names},
		Description: "The api-version (the parameter's name in any case): the published Batch API versions, oldest first (there is no 13.0), and `" + tool.LeaseAPIVersion +
			"`, the emulator's own leasing version, which production never offered. Another value, or none, is refused with 400."}
	leaseVersion := &oaParam{Name: tool.QueryAPIVersion, In: "query", Required: true,
		Schema:      &oaSchema{Type: "string", Enum: lease},
		Description: "The leasing api-version; another is refused with 400 (`api-version-no-leases`)."}
	leaseID := &oaParam{Name: "id", In: "path", Required: true,
		Schema:      &oaSchema{Type: "string", Pattern: fmt.Sprintf("^[0-9a-fA-F]{%d}$", tool.LeaseIDLength)},
		Description: "The lease's id: the `entitlementId` its acquisition answered. An id of another form names no lease (404)."}

	v1Schema := g.component("EntitlementResponseV1", reflect.TypeFor[tool.EntitlementResponseV1](), "The entitlement granted, for the api-versions whose contract carries a vmid.")
	g.schemas["EntitlementResponseV1"].APIVersions = v1
	v2Schema := g.component("EntitlementResponseV2", reflect.TypeFor[tool.EntitlementResponseV2](), "The entitlement granted, for the later api-versions.")
	g.schemas["EntitlementResponseV2"].APIVersions = v2
	acquired := g.component("LeaseAcquireResponse", reflect.TypeFor[tool.LeaseAcquireResponse](), "The lease acquired.")
	g.schemas["LeaseAcquireResponse"].APIVersions = lease
	renewed := g.component("LeaseRenewResponse", reflect.TypeFor[tool.LeaseRenewResponse](), "The lease renewed.")
	request := g.component("EntitlementRequest", reflect.TypeFor[tool.EntitlementRequest](),
		"An entitlement request, or with `duration` a lease acquisition. Property names match in any case, strings may be in single quotes, and other properties are skipped, as the reference server read them.")
	g.schemas["EntitlementRequest"].Required = []string{tool.FieldToken, tool.FieldApplicationID}
	g.schemas["EntitlementRequest"].AdditionalProperties = nil
	renewal := g.component("LeaseRenewRequest", reflect.TypeFor[tool.EntitlementRequest](), "A lease renewal.", tool.FieldDuration)
	g.schemas["LeaseRenewRequest"].Required = []string{tool.FieldDuration}
	g.schemas["LeaseRenewRequest"].AdditionalProperties = nil
	g.component("ErrorResponse", reflect.TypeFor[tool.ErrorResponse](), "")
	g.schemas["ErrorMessage"].Properties["lang"].Enum = []string{tool.ErrorLanguage}
	leaseSchema := g.component("Lease", reflect.TypeFor[Lease](), "An active lease, as the management API lists it: never the token's text.")
	decisionSchema := g.component("Decision", reflect.TypeFor[decision](), "One entitlement request and what the server decided, as the management API shows it.")
	g.component("UsageRecord", reflect.TypeFor[UsageRecord](), "One entry of the usage record: a decision on a request to the entitlement endpoint, or a change of a lease. Never a token, never a lease id.")
	g.component("AppUsage", reflect.TypeFor[AppUsage](), "The sums of the usage record for one application.")
	report := g.component("UsageReport", reflect.TypeFor[UsageReport](), "The usage record picked, and its sums.")
	feedSchema := g.component("StatusFeed", reflect.TypeFor[statusFeed](), "What the status page shows.")

	v1Example := tool.EntitlementResponseV1{ID: "entitlement-aef61648-5350-4357-b1d8-40a3829d9811", VMID: "vm-42"}
	v2Example := tool.EntitlementResponseV2{ID: "entitlement-6e6f5b7d-b861-4e28-9576-0284c9a50ec8", Expiry: "2026-11-29T10:17:20Z"}
	leaseExample := tool.LeaseAcquireResponse{EntitlementID: "6e9e3bc200c7af6b91d9ad3657a78297", InitialExpiryTime: "2026-11-22T10:22:20Z"}
	const exampleToken = "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00iLCJ0eXAiOiJKV1QifQ..."

	tokenReasons := []tool.Reason{
		tool.ReasonTooLarge, tool.ReasonMalformed, tool.ReasonNotEncrypted, tool.ReasonUnexpectedEncryption,
		tool.ReasonEncryptionAlgorithm, tool.ReasonEncryptionKey, tool.ReasonDecryption, tool.ReasonNotSigned,
		tool.ReasonUnexpectedSignature, tool.ReasonSignatureAlgorithm, tool.ReasonSigningKey, tool.ReasonSignature,
		tool.ReasonClaims, tool.ReasonMissingClaim, tool.ReasonIssuer, tool.ReasonAudience, tool.ReasonAddressClaim,
		tool.ReasonNotYetValid, tool.ReasonExpired, tool.ReasonApplication, tool.ReasonAddress,
	}
	versionReasons := []tool.Reason{tool.ReasonAPIVersionMissing, tool.ReasonAPIVersionUnknown}
	bodyReasons := []tool.Reason{tool.ReasonBodyTooLarge, tool.ReasonBodyUnreadable, tool.ReasonBodyMissing, tool.ReasonBodyMalformed}
	durationReasons := []tool.Reason{tool.ReasonDurationMissing, tool.ReasonDurationInvalid, tool.ReasonDurationTooLong}
	join := func(lists ...[]tool.Reason) []tool.Reason { return slices.Concat(lists...) }

	noACS := extra{http.StatusNotFound, tool.CodeNotFound, "Without `--acs` the path is not served."}
	panicked := extra{http.StatusInternalServerError, tool.CodeInternalError, ""}
	wwwAuth := map[string]oaHeader{"WWW-Authenticate": {Description: "`WRAP`: present a WRAP access token.", Required: true, Schema: &oaSchema{Type: "string", Enum: []string{"WRAP"}}}}
	admin := []map[string][]string{{"wrap": {}}}
	public := []map[string][]string{}

	// htmlPage is a page's answers: 200 HTML, 500 text (and JSON for a
	// panic).
	htmlPage := func(what string) map[string]*oaResponse {
		r := g.errors(nil, panicked)
		r["500"].Content["text/plain"] = textMedia("The page failed to render.")["text/plain"]
		r["200"] = &oaResponse{Description: what, Content: map[string]oaMedia{"text/html": {Schema: &oaSchema{Type: "string"}}}}
		return r
	}
	entitlement := &oaOp{Tags: []string{tagEntitlements, tagLeases}, OperationID: "requestEntitlement", Security: public,
		Summary: "Request an entitlement, or acquire a lease",
		Description: "Checks the token for the application and the caller's address (the TCP peer, never a forwarding header) and answers by the api-version:\n\n" +
			"- " + code(v1) + ": `EntitlementResponseV1`, `{id, vmid}`;\n" +
			"- " + code(v2) + ": `EntitlementResponseV2`, `{id, expiry}`;\n" +
			"- " + code(lease) + ": a lease for `duration`, `LeaseAcquireResponse`, `{entitlementId, initialExpiryTime}`.\n\n" +
			"Batch tasks send it to `$AZ_BATCH_ACCOUNT_URL" + tool.PathEntitlements + "`. Another method is answered 405 `MethodNotAllowed` with `Allow: POST`.",
		Parameters: []*oaParam{apiVersion},
		RequestBody: &oaBody{Required: true, Description: "`application/json`, with parameters or none (`application/json; odata=minimalmetadata`).",
			Content: map[string]oaMedia{"application/json": {Schema: request, Examples: map[string]oaExample{
				"entitlement": {Summary: "An entitlement request", Value: tool.EntitlementRequest{Token: exampleToken, ApplicationID: "contosoapp"}},
				"lease":       {Summary: "A lease acquisition (api-version " + tool.LeaseAPIVersion + ")", Value: tool.EntitlementRequest{Token: exampleToken, ApplicationID: "contosoapp", Duration: "PT5M"}},
			}}}},
		Responses: with(map[string]*oaResponse{
			"200": {Description: "Entitled: the body's shape is the api-version's (`x-api-versions` of each schema).",
				Content: map[string]oaMedia{"application/json": {Schema: &oaSchema{OneOf: []*oaSchema{v1Schema, v2Schema, acquired}},
					Examples: map[string]oaExample{
						"v1":    {Summary: "api-version " + strings.Join(v1, " or "), Value: v1Example},
						"v2":    {Summary: "api-version " + v2[0] + " to " + v2[len(v2)-1], Value: v2Example},
						"lease": {Summary: "api-version " + tool.LeaseAPIVersion, Value: leaseExample},
					}}}},
		}, g.errors(join(versionReasons, bodyReasons, durationReasons, []tool.Reason{tool.ReasonTokenMissing, tool.ReasonApplicationMissing},
			tokenReasons, []tool.Reason{tool.ReasonLeaseLimit, tool.ReasonInternal}))),
	}
	renew := &oaOp{Tags: []string{tagLeases}, OperationID: "renewLease", Security: public,
		Summary:     "Renew a lease",
		Description: "Extends the lease by `duration` from now, never past its token's expiry. Another method than POST and DELETE is answered 405 `MethodNotAllowed` with `Allow: POST, DELETE`.",
		Parameters:  []*oaParam{leaseID, leaseVersion},
		RequestBody: &oaBody{Required: true, Description: "`application/json`, read as the entitlement request is.",
			Content: map[string]oaMedia{"application/json": {Schema: renewal, Examples: map[string]oaExample{"renewal": {Summary: "Five more minutes", Value: map[string]string{tool.FieldDuration: "PT5M"}}}}}},
		Responses: with(map[string]*oaResponse{
			"200": {Description: "Renewed.", Content: jsonMedia(renewed)},
		}, g.errors(join(versionReasons, []tool.Reason{tool.ReasonAPIVersionNoLeases}, bodyReasons, durationReasons,
			[]tool.Reason{tool.ReasonLeaseNotFound, tool.ReasonLeaseReleased, tool.ReasonLeaseExpired, tool.ReasonExpired, tool.ReasonInternal}))),
	}
	release := &oaOp{Tags: []string{tagLeases}, OperationID: "releaseLease", Security: public,
		Summary:     "Release a lease",
		Description: "Ends the lease; releasing it again is answered the same.",
		Parameters:  []*oaParam{leaseID, leaseVersion},
		Responses: with(map[string]*oaResponse{
			"204": {Description: "Released."},
		}, g.errors(join(versionReasons, []tool.Reason{tool.ReasonAPIVersionNoLeases, tool.ReasonLeaseNotFound, tool.ReasonInternal}))),
	}

	status := &oaOp{Tags: []string{tagServer}, OperationID: "statusPage", Security: public,
		Summary: "The status page",
		Description: "One self-contained page (nothing fetched from elsewhere) that polls `" + tool.PathStatusFeed + "` every second: a summary per application, " +
			"every decision with its reason code and explanation, and lease changes by fingerprint; never a token's contents or a lease id.",
		Responses: htmlPage("The page.")}
	badQuery := extra{http.StatusBadRequest, tool.CodeBadRequest, "A query parameter the server cannot read: it says which."}
	feed := &oaOp{Tags: []string{tagServer}, OperationID: "statusFeed", Security: public,
		Summary: "What the status page shows",
		Description: "The usage record's sums per application and its newest records after record `after`. It reads nothing of the leases (the record sums them as they change), " +
			"so it costs the same however many are held. With `--acs`, a caller without the admin token gets the totals alone (`details` false); one with a token that does not pass, 401.",
		Parameters: []*oaParam{{Name: tool.QueryAfter, In: "query", Description: "The number of the last record the caller has (0 or absent: none).",
			Schema: &oaSchema{Type: "integer"}}},
		Responses: with(map[string]*oaResponse{
			"200": {Description: "The sums and the records.", Content: jsonMedia(feedSchema)},
		}, g.errors([]tool.Reason{tool.ReasonAdminUnauthorized}, badQuery, panicked)),
	}
	feed.Responses["401"].Headers = wwwAuth
	usage := &oaOp{Tags: []string{tagServer}, OperationID: "usageRecord", Security: public,
		Summary: "The usage record",
		Description: "Every decision on the entitlement endpoint and every lease change the server keeps (with `--state`, those in the file), oldest first, as JSON (`UsageReport`, with the sums per application) or CSV " +
			"(a header line, then one row per record: `" + strings.Join(UsageCSVHeader, ",") + "`). With `--acs` it needs the admin token.",
		Parameters: []*oaParam{
			{Name: tool.QueryFormat, In: "query", Description: "`" + tool.FormatJSON + "` or `" + tool.FormatCSV + "` (in any case); without it, CSV when `Accept` names `" + tool.ContentTypeCSV + "`, else JSON.",
				Schema: &oaSchema{Type: "string"}},
			{Name: tool.QueryFrom, In: "query", Description: "Only the records at or after this time (RFC 3339).", Schema: &oaSchema{Type: "string", Format: "date-time"}},
			{Name: tool.QueryTo, In: "query", Description: "Only the records before this time (RFC 3339).", Schema: &oaSchema{Type: "string", Format: "date-time"}},
			{Name: tool.QueryApp, In: "query", Description: "Only the records of this application.", Schema: &oaSchema{Type: "string"}},
		},
		Responses: with(map[string]*oaResponse{
			"200": {Description: "The record.", Content: map[string]oaMedia{
				tool.ContentTypeJSON: {Schema: report},
				tool.ContentTypeCSV:  {Schema: &oaSchema{Type: "string", Description: "RFC 4180 CSV, the header line first."}},
			}},
		}, g.errors([]tool.Reason{tool.ReasonAdminUnauthorized}, badQuery, panicked)),
	}
	usage.Responses["401"].Headers = wwwAuth
	usage.Responses["401"].Description = "With `--acs`: " + usage.Responses["401"].Description
	health := &oaOp{Tags: []string{tagServer}, OperationID: "health", Security: public,
		Summary:     "Health check",
		Description: "`ok` while the server runs.",
		Responses:   map[string]*oaResponse{"200": {Description: "Running.", Content: textMedia("`ok` and a newline.")}}}
	document := &oaOp{Tags: []string{tagServer}, OperationID: "openAPIDocument", Security: public,
		Summary:     "This document",
		Description: "The OpenAPI 3.1 document of every path the server serves, as `server/openapi.json` in the repository has it.",
		Responses: map[string]*oaResponse{"200": {Description: "The document.",
			Content: jsonMedia(&oaSchema{Type: "object", Description: "An OpenAPI 3.1 document."})}}}
	reference := &oaOp{Tags: []string{tagServer}, OperationID: "reference", Security: public,
		Summary:     "The API reference",
		Description: "This document as a page, with nothing fetched from elsewhere.",
		Responses:   htmlPage("The page.")}

	wrapRequest := &oaSchema{Type: "object", Description: "A WRAP v0.9 token request: `" + tool.WRAPScope + "` and one profile's credentials. A parameter given twice is refused.",
		Properties: map[string]*oaSchema{
			tool.WRAPScope:           {Type: "string", Description: "The URL the token is for; the namespace's scope is the one whose `appliesTo` is it or its longest prefix ending on a path segment."},
			tool.WRAPName:            {Type: "string", Description: "The password profile: the issuer's name."},
			tool.WRAPPassword:        {Type: "string", Description: "The password profile: the issuer's key, base64."},
			tool.WRAPAssertionFormat: {Type: "string", Enum: []string{tool.WRAPFormatSWT}, Description: "The assertion profile: the assertion's format."},
			tool.WRAPAssertion:       {Type: "string", Description: "The assertion profile: a Simple Web Token signed with the issuer's key, whose `Issuer` names it and whose `Audience` is the namespace's URL or this endpoint's."},
		},
		Required: []string{tool.WRAPScope},
		OneOf: []*oaSchema{
			{Required: []string{tool.WRAPName, tool.WRAPPassword}},
			{Required: []string{tool.WRAPAssertionFormat, tool.WRAPAssertion}},
		}}
	g.schemas["WRAPRequest"] = wrapRequest
	f := false
	g.schemas["WRAPResponse"] = &oaSchema{Type: "object", Description: "The access token issued.", AdditionalProperties: &f,
		Properties: map[string]*oaSchema{
			tool.WRAPAccessToken:          {Type: "string", Description: "The access token: a Simple Web Token with the claims the scope's rules map, `Issuer` (the namespace's), `Audience` (the scope's `appliesTo`) and `ExpiresOn`. Present it as `Authorization: WRAP access_token=\"<token>\"`."},
			tool.WRAPAccessTokenExpiresIn: {Type: "integer", Description: "Seconds until the token expires."},
		},
		Required: []string{tool.WRAPAccessToken, tool.WRAPAccessTokenExpiresIn}}
	wrapForm := func(ref string) map[string]oaMedia {
		return map[string]oaMedia{tool.WRAPContentType: {Schema: &oaSchema{Ref: "#/components/schemas/" + ref}}}
	}
	wrap := &oaOp{Tags: []string{tagACS}, OperationID: "wrapToken", Security: public,
		Summary:     "Issue a WRAP v0.9 access token",
		Description: "The Access Control Service's token endpoint, served with `--acs`: authenticates the caller by the password or the SWT assertion profile and maps its claims by the scope's rules. Another method is answered 405 with `Allow: POST`.",
		RequestBody: &oaBody{Required: true, Description: "Form-encoded, at most one of each parameter.", Content: wrapForm("WRAPRequest")},
		Responses: with(map[string]*oaResponse{
			"200": {Description: "The token.", Content: wrapForm("WRAPResponse")},
			"400": {Description: "A malformed request, an unknown scope, or credentials of neither profile or both.", Content: textMedia("What was wrong.")},
			"401": {Description: "Bad credentials or a bad assertion, or rules that grant the caller nothing.", Headers: wwwAuth, Content: textMedia("What was wrong; the same whether the issuer exists or not.")},
			"429": {Description: "Too many failed authentications for the issuer's name or from the caller's address: wait.",
				Headers: map[string]oaHeader{"Retry-After": {Description: "Seconds to wait.", Required: true, Schema: &oaSchema{Type: "integer"}}},
				Content: textMedia("What was wrong.")},
		}, g.errors(nil, noACS, panicked)),
	}
	authErrors := func(reasons ...tool.Reason) map[string]*oaResponse {
		r := g.errors(append([]tool.Reason{tool.ReasonAdminUnauthorized}, reasons...), noACS, panicked)
		r["401"].Headers = wwwAuth
		return r
	}
	adminLeases := &oaOp{Tags: []string{tagACS}, OperationID: "listLeases", Security: admin,
		Summary:     "List the active leases",
		Description: "Every lease neither released nor expired, soonest expiry first.",
		Responses: with(map[string]*oaResponse{
			"200": {Description: "The leases.", Content: jsonMedia(&oaSchema{Type: "array", Items: leaseSchema})},
		}, authErrors()),
	}
	revoke := &oaOp{Tags: []string{tagACS}, OperationID: "revokeLease", Security: admin,
		Summary:     "Revoke a lease",
		Description: "Releases the lease: its holder's later renewals get 409 `AlreadyReleased`.",
		Parameters: []*oaParam{{Name: "id", In: "path", Required: true, Description: "The lease's id.",
			Schema: &oaSchema{Type: "string", Pattern: fmt.Sprintf("^[0-9a-fA-F]{%d}$", tool.LeaseIDLength)}}},
		Responses: with(map[string]*oaResponse{"204": {Description: "Revoked."}},
			authErrors(tool.ReasonLeaseNotFound, tool.ReasonInternal)),
	}
	decisions := &oaOp{Tags: []string{tagACS}, OperationID: "listDecisions", Security: admin,
		Summary:     "List the recent decisions",
		Description: "The last entitlement requests and what was decided (at most 100), newest first.",
		Responses: with(map[string]*oaResponse{
			"200": {Description: "The decisions.", Content: jsonMedia(&oaSchema{Type: "array", Items: decisionSchema})},
		}, authErrors()),
	}

	paths := map[string]*oaPath{
		tool.PathEntitlements:           {Post: entitlement},
		tool.PathEntitlements + "/{id}": {Post: renew, Delete: release},
		tool.PathStatus:                 {Get: status},
		tool.PathStatusFeed:             {Get: feed},
		tool.PathUsage:                  {Get: usage},
		tool.PathHealth:                 {Get: health},
		tool.PathOpenAPI:                {Get: document},
		tool.PathDocs:                   {Get: reference},
		tool.PathWRAP:                   {Post: wrap},
		tool.PathAdminLeases:            {Get: adminLeases},
		tool.PathAdminLeases + "/{id}":  {Delete: revoke},
		tool.PathAdminDecisions:         {Get: decisions},
	}

	// The answers no operation lists: the route's own.
	g.errors(nil,
		extra{http.StatusNotFound, tool.CodeNotFound, "a path the server does not serve"},
		extra{http.StatusMethodNotAllowed, tool.CodeMethodNotAllowed, "another method on an entitlement path"})
	for _, r := range answered {
		if !g.used[tool.Reason(r)] {
			t.Errorf("no operation answers with reason %s: list it where the handler refuses with it", r)
		}
	}
	var codeLines []string
	for _, c := range g.enums[reflect.TypeFor[tool.ErrorCode]()] {
		sts := g.statuses[tool.ErrorCode(c)]
		if len(sts) == 0 {
			t.Errorf("no answer carries error code %s: say when the server answers with it", c)
		}
		slices.Sort(sts)
		var s []string
		for _, st := range sts {
			s = append(s, strconv.Itoa(st))
		}
		codeLines = append(codeLines, "- `"+c+"`: "+strings.Join(s, ", "))
	}
	g.schemas["ErrorResponse"].Description = "The body of every JSON error answer. The code and the status it comes with:\n\n" + strings.Join(codeLines, "\n") +
		"\n\n404 `NotFound` also answers a path the server does not serve, 405 `MethodNotAllowed` (with `Allow`) another method on an entitlement path."

	var listen string
	if sf, ok := reflect.TypeFor[Cmd]().FieldByName("URL"); ok {
		listen = sf.Tag.Get("default")
	}
	doc := oaDoc{
		OpenAPI: "3.1.0",
		Info: oaInfo{
			Title:   "ses server",
			Summary: "The Azure Batch software entitlement endpoint as `ses server` emulates it, with leasing, a WRAP v0.9 issuer and a management API.",
			Description: "Every path `ses server` serves. The entitlement endpoint answers as production did for each api-version; the leasing api-version `" + tool.LeaseAPIVersion + "` is the emulator's own.\n\n" +
				"As the reference server did, the server takes a path in any case and with a final `/`, a `Content-Type` with parameters, property names in any case and strings in single quotes. " +
				"HEAD is answered wherever GET is, without the body. " +
				"Every error is `ErrorResponse` JSON (the WRAP endpoint's own are text): a refusal's reason code goes to the log and the status page, never into the body.\n\n" +
				"The WRAP v0.9 endpoint and the management API (tag `" + tagACS + "`) are served with `--acs` only.",
			License: oaLicense{Name: "MIT", Identifier: "MIT"},
			Version: documentVersion,
		},
		Servers: []oaServer{{URL: listen, Description: "`ses server` with its default `--url`."}},
		Tags: []oaTag{
			{Name: tagEntitlements, Description: "The entitlement endpoint, every api-version."},
			{Name: tagLeases, Description: "Leases: api-version `" + tool.LeaseAPIVersion + "`, the emulator's own. Acquire with the entitlement request and a `duration`; renew and release by the lease's id."},
			{Name: tagServer, Description: "The status page and its feed, the usage record, the health check, this document and its reference page."},
			{Name: tagACS, Description: "The Access Control Service of `ses server --acs`: the WRAP v0.9 token endpoint and the management API, which takes a WRAP access token (security scheme `wrap`)."},
		},
		Paths: paths,
		Components: oaComponents{
			Schemas: g.schemas,
			SecuritySchemes: map[string]oaSecurity{"wrap": {Type: "http", Scheme: "WRAP",
				Description: "`Authorization: WRAP access_token=\"<SWT>\"`: a token from `POST " + tool.PathWRAP + "` for the scope `<server URL>" + tool.PathAdmin +
					"` whose `" + tool.SWTClaimAction + "` claim holds `" + tool.ActionManage + "`."}},
		},
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
