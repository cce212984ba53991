package tool

// Reason is the stable code of one way a token can fail. Servers log it,
// `ses verify` prints it, scripts may match on it.
type Reason string

// The reasons a token or a request is refused.
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

// CheckError is a refused token or request: a stable reason and a message that
// names the value found and the one expected.
type CheckError struct {
	Reason Reason
	Msg    string
}

func (e *CheckError) Error() string { return e.Msg }
