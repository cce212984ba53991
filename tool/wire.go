package tool

import (
	"strconv"
	"time"
)

// The wire contract of the entitlement endpoint (DESIGN §5), the one place
// the server and the client take it from: paths, the query, the bodies,
// the error codes and the decisions. The reason codes are in reason.go.

// The paths the endpoint serves. The server matches them in any case, with
// or without a final "/", as the reference server did; clients send them as
// written here.
const (
	// PathEntitlements takes entitlement requests and lease acquisitions
	// (POST); PathEntitlements + "/" + id renews (POST) or releases
	// (DELETE) a lease.
	PathEntitlements = "/softwareEntitlements"
	// PathStatus is the status page (GET).
	PathStatus = "/"
	// PathHealth answers 200 "ok" while the server runs.
	PathHealth = "/healthz"
	// PathWRAP is the WRAP v0.9 token endpoint of `ses server --acs`.
	PathWRAP = "/WRAPv0.9/"
	// PathAdmin is the root of the management API, and the path of its
	// scope: management tokens are issued for the server's URL + PathAdmin.
	PathAdmin = "/admin"
	// PathAdminLeases lists the active leases (GET); PathAdminLeases + "/"
	// + id revokes one (DELETE).
	PathAdminLeases = PathAdmin + "/leases"
	// PathAdminDecisions lists the recent decisions (GET).
	PathAdminDecisions = PathAdmin + "/decisions"
	// PathStatusFeed is what the status page polls (GET): the summary and
	// the records after QueryAfter, as JSON.
	PathStatusFeed = "/status.json"
	// PathUsage is the usage record (GET), as JSON or CSV (QueryFormat or
	// the Accept header), filtered by QueryFrom, QueryTo and QueryApp.
	PathUsage = "/usage"
	// PathOpenAPI is the OpenAPI document of every path here (GET).
	PathOpenAPI = "/openapi.json"
	// PathDocs is the reference page rendered from that document (GET).
	PathDocs = "/docs"
)

// The query parameters of PathStatusFeed and PathUsage.
const (
	// QueryAfter asks for the records after this sequence number.
	QueryAfter = "after"
	// QueryFormat is FormatJSON or FormatCSV.
	QueryFormat = "format"
	// QueryFrom and QueryTo bound the records' times (RFC 3339): from is
	// inclusive, to exclusive.
	QueryFrom = "from"
	QueryTo   = "to"
	// QueryApp keeps the records of one application.
	QueryApp = "app"
)

// The formats of PathUsage.
const (
	FormatJSON = "json"
	FormatCSV  = "csv"
)

// The content types of PathUsage's formats.
const (
	ContentTypeJSON = "application/json"
	ContentTypeCSV  = "text/csv"
)

// The management API's authorization: a WRAP access token issued for the
// server's URL + PathAdmin whose SWTClaimAction claim holds ActionManage.
const (
	SWTClaimAction = "action"
	ActionManage   = "Manage"
)

// QueryAPIVersion is the query parameter that names the api-version.
const QueryAPIVersion = "api-version"

// The JSON property names of EntitlementRequest, for decoders that read
// them without its tags.
const (
	FieldToken         = "token"
	FieldApplicationID = "applicationId"
	FieldDuration      = "duration"
)

// EntitlementRequest is the body of POST PathEntitlements: Token and
// ApplicationID, and Duration (ISO 8601) to acquire a lease. A renewal
// carries Duration alone.
type EntitlementRequest struct {
	Token         string `json:"token,omitempty"`
	ApplicationID string `json:"applicationId,omitempty"`
	Duration      string `json:"duration,omitempty"`
}

// EntitlementResponseV1 is the 200 answer of the api-versions whose
// contract carries a vmid (2017-05-01.5.0 and 2017-06-01.5.1).
type EntitlementResponseV1 struct {
	ID   string `json:"id"`
	VMID string `json:"vmid"`
}

// EntitlementResponseV2 is the 200 answer of the later api-versions:
// Expiry is the token's, in TimeLayout.
type EntitlementResponseV2 struct {
	ID     string `json:"id"`
	Expiry string `json:"expiry"`
}

// LeaseIDLength is the length of a lease id: 16 random bytes in
// hexadecimal digits, the entitlementId of LeaseAcquireResponse and the
// last segment of a renewal's or release's path.
const LeaseIDLength = 32

// IsLeaseID reports whether s is a lease id: LeaseIDLength hexadecimal
// digits, in either case. Nothing else is sent as one.
func IsLeaseID(s string) bool {
	if len(s) != LeaseIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// LeaseAcquireResponse is the 200 answer of a lease acquisition.
type LeaseAcquireResponse struct {
	EntitlementID     string `json:"entitlementId"`
	InitialExpiryTime string `json:"initialExpiryTime"`
}

// LeaseRenewResponse is the 200 answer of a lease renewal.
type LeaseRenewResponse struct {
	ExpiryTime string `json:"expiryTime"`
}

// ErrorResponse is the body of every error answer.
type ErrorResponse struct {
	Code    ErrorCode    `json:"code"`
	Message ErrorMessage `json:"message"`
}

// ErrorMessage is the readable part of an ErrorResponse.
type ErrorMessage struct {
	Lang  string `json:"lang"`
	Value string `json:"value"`
}

// ErrorLanguage is the language of every error message.
const ErrorLanguage = "en-us"

// NewErrorResponse is the error body with code and message.
func NewErrorResponse(code ErrorCode, msg string) ErrorResponse {
	return ErrorResponse{Code: code, Message: ErrorMessage{Lang: ErrorLanguage, Value: msg}}
}

// ErrorCode is the code of an ErrorResponse.
type ErrorCode string

// The error codes the endpoint answers with.
const (
	// CodeEntitlementDenied: 400 for a bad request, 403 for a token or
	// request check that failed.
	CodeEntitlementDenied ErrorCode = "EntitlementDenied"
	// CodeNotFound: 404, an unknown path or lease.
	CodeNotFound ErrorCode = "NotFound"
	// CodeAlreadyReleased: 409, renewing a released lease.
	CodeAlreadyReleased ErrorCode = "AlreadyReleased"
	// CodeLeaseExpired: 409, renewing an expired lease.
	CodeLeaseExpired ErrorCode = "LeaseExpired"
	// CodeTooManyLeases: 409, acquiring a lease on a token that holds as
	// many active leases as the server allows.
	CodeTooManyLeases ErrorCode = "TooManyLeases"
	// CodeRequestBodyTooLarge: 413.
	CodeRequestBodyTooLarge ErrorCode = "RequestBodyTooLarge"
	// CodeMethodNotAllowed: 405.
	CodeMethodNotAllowed ErrorCode = "MethodNotAllowed"
	// CodeUnauthorized: 401, the management API without a valid token.
	CodeUnauthorized ErrorCode = "Unauthorized"
	// CodeInternalError: 500.
	CodeInternalError ErrorCode = "InternalError"
	// CodeBadRequest: 400, a query the usage record or the status feed
	// cannot answer.
	CodeBadRequest ErrorCode = "BadRequest"
)

// Decision is what the server decided about an entitlement request, as its
// log, its status page and its management API show it.
type Decision string

// The decisions.
const (
	DecisionApproved Decision = "approved"
	DecisionDenied   Decision = "denied"
	DecisionError    Decision = "error"
)

// TimeLayout is the layout of every time on the wire: RFC 3339, written in
// UTC to the second.
const TimeLayout = time.RFC3339

// FormatTime writes t in TimeLayout, in UTC: the form of every time on the
// wire and in what ses prints.
func FormatTime(t time.Time) string { return string(AppendTime(nil, t)) }

// AppendTime appends t to b as FormatTime writes it.
func AppendTime(b []byte, t time.Time) []byte { return t.UTC().AppendFormat(b, TimeLayout) }

// The form fields and values of WRAP v0.9 (the token endpoint at PathWRAP).
const (
	WRAPScope                = "wrap_scope"
	WRAPName                 = "wrap_name"
	WRAPPassword             = "wrap_password"
	WRAPAssertionFormat      = "wrap_assertion_format"
	WRAPAssertion            = "wrap_assertion"
	WRAPAccessToken          = "wrap_access_token"
	WRAPAccessTokenExpiresIn = "wrap_access_token_expires_in"
	// WRAPFormatSWT is the one assertion format the issuer takes.
	WRAPFormatSWT = "SWT"
	// WRAPContentType is the type of a WRAP request and of its answer.
	WRAPContentType = "application/x-www-form-urlencoded"
)

// WRAPAuthorization is the Authorization header value that presents an
// access token: WRAP access_token="<token>", the token quoted as Go quotes
// strings (an SWT, being URL-encoded, needs no escapes).
func WRAPAuthorization(token string) string {
	return "WRAP access_token=" + strconv.Quote(token)
}
