package tool

import "net/http"

// Reason is the stable code of one way a token or a request can fail.
// Servers log it and show it on the status page, `ses verify` prints it,
// scripts may match on it. README.md has the table of them all.
type Reason string

// The reasons a token is refused: the entitlement endpoint answers 403
// EntitlementDenied for each (the reason goes to its log, not the body).
const (
	ReasonTooLarge             Reason = "token-too-large"
	ReasonMalformed            Reason = "token-malformed"
	ReasonNotEncrypted         Reason = "token-not-encrypted"
	ReasonUnexpectedEncryption Reason = "token-encrypted"
	ReasonEncryptionAlgorithm  Reason = "encryption-algorithm"
	ReasonEncryptionKey        Reason = "encryption-key-mismatch"
	ReasonDecryption           Reason = "decryption-failed"
	ReasonNotSigned            Reason = "token-not-signed"
	ReasonUnexpectedSignature  Reason = "token-signed"
	ReasonSignatureAlgorithm   Reason = "signature-algorithm"
	ReasonSigningKey           Reason = "signing-key-mismatch"
	ReasonSignature            Reason = "signature-invalid"
	ReasonClaims               Reason = "claims-malformed"
	ReasonMissingClaim         Reason = "claim-missing"
	ReasonIssuer               Reason = "issuer-mismatch"
	ReasonAudience             Reason = "audience-mismatch"
	ReasonAddressClaim         Reason = "address-claim-invalid"
	ReasonNotYetValid          Reason = "token-not-yet-valid"
	ReasonExpired              Reason = "token-expired"
	ReasonApplication          Reason = "application-not-entitled"
	ReasonAddress              Reason = "address-not-entitled"
)

// The reasons the entitlement endpoint refuses a request before or beside
// its token. Reason.Answer gives the status and error code of each.
const (
	ReasonAPIVersionMissing  Reason = "api-version-missing"
	ReasonAPIVersionUnknown  Reason = "api-version-unknown"
	ReasonAPIVersionNoLeases Reason = "api-version-no-leases"
	ReasonBodyTooLarge       Reason = "body-too-large"
	ReasonBodyUnreadable     Reason = "body-unreadable"
	ReasonBodyMissing        Reason = "body-missing"
	ReasonBodyMalformed      Reason = "body-malformed"
	ReasonTokenMissing       Reason = "token-missing"
	ReasonApplicationMissing Reason = "application-missing"
	ReasonDurationMissing    Reason = "duration-missing"
	ReasonDurationInvalid    Reason = "duration-invalid"
	ReasonDurationTooLong    Reason = "duration-too-long"
	ReasonLeaseNotFound      Reason = "lease-not-found"
	ReasonLeaseReleased      Reason = "lease-released"
	ReasonLeaseExpired       Reason = "lease-expired"
	ReasonLeaseLimit         Reason = "lease-limit-reached"
	ReasonAdminUnauthorized  Reason = "admin-unauthorized"
	ReasonInternal           Reason = "internal-error"
)

// The reasons a Simple Web Token is refused: `ses verify` reports them, and
// the WRAP issuer and the management API answer 401 for them.
const (
	ReasonSWTTooLarge  Reason = "swt-too-large"
	ReasonSWTMalformed Reason = "swt-malformed"
	ReasonSWTDuplicate Reason = "swt-duplicate-reserved"
	ReasonSWTHMACLast  Reason = "swt-hmac-not-last"
	ReasonSWTSignature Reason = "swt-signature-invalid"
	ReasonSWTExpired   Reason = "swt-expired"
	ReasonSWTIssuer    Reason = "swt-issuer-mismatch"
	ReasonSWTAudience  Reason = "swt-audience-mismatch"
)

// Answer is how the entitlement endpoint answers a request it refuses: the
// HTTP status and the error code of the body.
type Answer struct {
	Status int
	Code   ErrorCode
}

// answers are the answers to every reason the endpoint refuses a request
// for; the Simple Web Token reasons are not among them.
var answers = func() map[Reason]Answer {
	badRequest := Answer{http.StatusBadRequest, CodeEntitlementDenied}
	m := map[Reason]Answer{
		ReasonAPIVersionMissing:  badRequest,
		ReasonAPIVersionUnknown:  badRequest,
		ReasonAPIVersionNoLeases: badRequest,
		ReasonBodyTooLarge:       {http.StatusRequestEntityTooLarge, CodeRequestBodyTooLarge},
		ReasonBodyUnreadable:     badRequest,
		ReasonBodyMissing:        badRequest,
		ReasonBodyMalformed:      badRequest,
		ReasonTokenMissing:       badRequest,
		ReasonApplicationMissing: badRequest,
		ReasonDurationMissing:    badRequest,
		ReasonDurationInvalid:    badRequest,
		ReasonDurationTooLong:    badRequest,
		ReasonLeaseNotFound:      {http.StatusNotFound, CodeNotFound},
		ReasonLeaseReleased:      {http.StatusConflict, CodeAlreadyReleased},
		ReasonLeaseExpired:       {http.StatusConflict, CodeLeaseExpired},
		ReasonLeaseLimit:         {http.StatusConflict, CodeTooManyLeases},
		ReasonAdminUnauthorized:  {http.StatusUnauthorized, CodeUnauthorized},
		ReasonInternal:           {http.StatusInternalServerError, CodeInternalError},
	}
	for _, r := range []Reason{
		ReasonTooLarge, ReasonMalformed, ReasonNotEncrypted, ReasonUnexpectedEncryption,
		ReasonEncryptionAlgorithm, ReasonEncryptionKey, ReasonDecryption, ReasonNotSigned,
		ReasonUnexpectedSignature, ReasonSignatureAlgorithm, ReasonSigningKey, ReasonSignature,
		ReasonClaims, ReasonMissingClaim, ReasonIssuer, ReasonAudience, ReasonAddressClaim,
		ReasonNotYetValid, ReasonExpired, ReasonApplication, ReasonAddress,
	} {
		m[r] = Answer{http.StatusForbidden, CodeEntitlementDenied}
	}
	return m
}()

// Answer reports how the entitlement endpoint answers a request refused
// for r; ok is false for the reasons it never answers with (those of
// Simple Web Tokens, which `ses verify` and the WRAP issuer report).
func (r Reason) Answer() (a Answer, ok bool) {
	a, ok = answers[r]
	return a, ok
}

// CheckError is a refused token or request: a stable reason and a message
// that names the value found and the one expected.
type CheckError struct {
	Reason Reason
	Msg    string
}

func (e *CheckError) Error() string { return e.Msg }
