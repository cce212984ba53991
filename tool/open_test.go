package tool

import (
	"crypto"
	"crypto/aes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josecipher "github.com/go-jose/go-jose/v4/cipher"
)

func mustSeal(t *testing.T, c Claims, sign *Credential, enc *x509.Certificate) string {
	t.Helper()
	tok, err := Seal(c, sign, enc)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// sealPayload signs and encrypts an arbitrary payload, for claims Seal
// would never write.
func sealPayload(t *testing.T, payload map[string]any, sign *Credential, enc *x509.Certificate) string {
	t.Helper()
	b, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	return sealBytes(t, b, sign, enc)
}

// sealBytes signs and encrypts payload as given, byte for byte.
func sealBytes(t *testing.T, payload []byte, sign *Credential, enc *x509.Certificate) string {
	t.Helper()
	jws, err := signJWS(payload, sign)
	if err != nil {
		t.Fatal(err)
	}
	jwe, err := encryptJWE([]byte(jws), enc)
	if err != nil {
		t.Fatal(err)
	}
	return jwe
}

func payloadOf(c Claims) map[string]any {
	b, _ := json.Marshal(c)
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}

func TestSealHeaders(t *testing.T) {
	sign, enc, _ := testCredentials(t)
	now := time.Now()
	tok := mustSeal(t, testClaims(now), sign, enc.Certificate)
	parts := strings.Split(tok, ".")
	if len(parts) != 5 {
		t.Fatalf("sealed token has %d parts, want 5", len(parts))
	}
	outer, _ := b64.DecodeString(parts[0])
	wantOuter := `{"alg":"RSA-OAEP","enc":"A256CBC-HS512","kid":"` + enc.Thumbprint().String() + `","typ":"JWT","cty":"JWT"}`
	if string(outer) != wantOuter {
		t.Errorf("JWE header\n got %s\nwant %s", outer, wantOuter)
	}
	// The inner header, through an independent decryption with go-jose.
	obj, err := jose.ParseEncryptedCompact(tok, []jose.KeyAlgorithm{jose.RSA_OAEP}, []jose.ContentEncryption{jose.A256CBC_HS512})
	if err != nil {
		t.Fatal(err)
	}
	inner, err := obj.Decrypt(enc.Key)
	if err != nil {
		t.Fatal(err)
	}
	ih, _ := b64.DecodeString(strings.Split(string(inner), ".")[0])
	wantInner := `{"alg":"RS512","kid":"` + sign.Thumbprint().String() + `","x5t":"` + sign.Thumbprint().X5T() + `","typ":"JWT"}`
	if string(ih) != wantInner {
		t.Errorf("JWS header\n got %s\nwant %s", ih, wantInner)
	}
	js, err := jose.ParseSignedCompact(string(inner), []jose.SignatureAlgorithm{jose.RS512})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Verify(sign.Certificate.PublicKey); err != nil {
		t.Fatalf("go-jose does not verify the inner signature: %v", err)
	}

	unsigned := mustSeal(t, testClaims(now), nil, nil)
	uh, _ := b64.DecodeString(strings.Split(unsigned, ".")[0])
	if string(uh) != `{"alg":"none","typ":"JWT"}` || !strings.HasSuffix(unsigned, ".") {
		t.Errorf("unsigned token %q: header %s, want {\"alg\":\"none\",\"typ\":\"JWT\"} and an empty signature", unsigned, uh)
	}
}

func TestSealPayloadShape(t *testing.T) {
	c := testClaims(time.Unix(1700000000, 0))
	c.Applications = []string{"one"}
	c.Addresses = []string{"10.0.0.1", "10.0.0.2"}
	var m map[string]any
	b, _ := json.Marshal(c)
	json.Unmarshal(b, &m)
	if m["app"] != "one" {
		t.Errorf("one app is %v, want the string \"one\"", m["app"])
	}
	if ips, ok := m["ip"].([]any); !ok || len(ips) != 2 {
		t.Errorf("two addresses are %v, want an array", m["ip"])
	}
	if m["exp"] != float64(1700003600) || m["iss"] != DefaultIssuer {
		t.Errorf("payload %s", b)
	}
}

func TestOpen(t *testing.T) {
	sign, enc, other := testCredentials(t)
	now := time.Now()
	good := testClaims(now)
	all := Verifier{Sign: sign.Certificate, Decrypt: enc}
	req := Request{Now: now, Application: "ContosoApp", Address: netip.MustParseAddr("::ffff:10.0.0.1")}

	with := func(f func(*Claims)) Claims { c := good; f(&c); return c }
	without := func(claim string) string {
		p := payloadOf(good)
		delete(p, claim)
		return sealPayload(t, p, sign, enc.Certificate)
	}
	quoted := func(claim string) string {
		p := payloadOf(good)
		p[claim] = fmt.Sprint(p[claim].(float64))
		return sealPayload(t, p, sign, enc.Certificate)
	}
	forgedKid := &Credential{Certificate: sign.Certificate, Key: other.Key}
	wrongKeyCert := *enc.Certificate
	wrongKeyCert.PublicKey = other.Certificate.PublicKey

	tests := []struct {
		name   string
		v      Verifier
		token  string
		req    Request
		reason Reason // "" means valid
	}{
		{"signed and encrypted", all, mustSeal(t, good, sign, enc.Certificate), req, ""},
		{"signed only", Verifier{Sign: sign.Certificate}, mustSeal(t, good, sign, nil), req, ""},
		{"encrypted only", Verifier{Decrypt: enc}, mustSeal(t, good, nil, enc.Certificate), req, ""},
		{"neither", Verifier{}, mustSeal(t, good, nil, nil), req, ""},
		{"custom issuer and audience", Verifier{Sign: sign.Certificate, Decrypt: enc, Issuer: "https://i", Audience: "https://a"},
			mustSeal(t, with(func(c *Claims) { c.Issuer, c.Audience = "https://i", "https://a" }), sign, enc.Certificate), req, ""},
		{"too large", all, strings.Repeat("a", MaxTokenSize+1), req, ReasonTooLarge},
		{"garbage", all, "not a token", req, ReasonMalformed},
		{"four parts", all, "a.b.c.d", req, ReasonMalformed},
		{"expired", all, mustSeal(t, with(func(c *Claims) { c.Expiry = now.Add(-2 * time.Minute) }), sign, enc.Certificate), req, ReasonExpired},
		{"expired within leeway", all, mustSeal(t, with(func(c *Claims) { c.Expiry = now.Add(-30 * time.Second) }), sign, enc.Certificate), req, ""},
		{"not yet valid", all, mustSeal(t, with(func(c *Claims) { c.NotBefore = now.Add(2 * time.Minute) }), sign, enc.Certificate), req, ReasonNotYetValid},
		{"not yet valid within leeway", all, mustSeal(t, with(func(c *Claims) { c.NotBefore = now.Add(30 * time.Second) }), sign, enc.Certificate), req, ""},
		{"wrong audience", all, mustSeal(t, with(func(c *Claims) { c.Audience = "https://elsewhere" }), sign, enc.Certificate), req, ReasonAudience},
		{"audience array containing ours", all, sealPayload(t, func() map[string]any {
			p := payloadOf(good)
			p["aud"] = []string{DefaultAudience, "https://other"}
			return p
		}(), sign, enc.Certificate), req, ReasonAudience},
		{"wrong issuer", all, mustSeal(t, with(func(c *Claims) { c.Issuer = "https://evil" }), sign, enc.Certificate), req, ReasonIssuer},
		{"missing exp", all, without("exp"), req, ReasonMissingClaim},
		{"missing id", all, without("id"), req, ReasonMissingClaim},
		{"missing iat", all, without("iat"), req, ReasonMissingClaim},
		{"missing app", all, without("app"), req, ReasonMissingClaim},
		{"bad ip claim", all, mustSeal(t, with(func(c *Claims) { c.Addresses = []string{"10.0.0.1", "not-an-ip"} }), sign, enc.Certificate), req, ReasonAddressClaim},
		{"exp a quoted number", all, quoted(ClaimExpiry), req, ReasonClaims},
		{"nbf a quoted number", all, quoted(ClaimNotBefore), req, ReasonClaims},
		{"iat a quoted number", all, quoted(ClaimIssuedAt), req, ReasonClaims},
		{"empty id", all, mustSeal(t, with(func(c *Claims) { c.ID = "" }), sign, enc.Certificate), req, ReasonMissingClaim},
		{"data after the claims", all, sealBytes(t, append(must(json.Marshal(good)), ` {}`...), sign, enc.Certificate), req, ReasonClaims},
		{"white space after the claims", all, sealBytes(t, append(must(json.Marshal(good)), " \r\n"...), sign, enc.Certificate), req, ""},
		{"compressed", all, compressed(t, mustSeal(t, good, sign, nil), enc), req, ReasonEncryptionAlgorithm},
		{"exp a string", all, sealPayload(t, func() map[string]any { p := payloadOf(good); p["exp"] = "tomorrow"; return p }(), sign, enc.Certificate), req, ReasonClaims},
		{"unsigned when signing required", all, mustSeal(t, good, nil, enc.Certificate), req, ReasonNotSigned},
		{"signed when none configured", Verifier{Decrypt: enc}, mustSeal(t, good, sign, enc.Certificate), req, ReasonUnexpectedSignature},
		{"signed by another key", all, mustSeal(t, good, other, enc.Certificate), req, ReasonSigningKey},
		{"signed by another key under our kid", all, mustSeal(t, good, forgedKid, enc.Certificate), req, ReasonSignature},
		{"encrypted to another key", all, mustSeal(t, good, sign, other.Certificate), req, ReasonEncryptionKey},
		{"encrypted to another key under our kid", all, mustSeal(t, good, sign, &wrongKeyCert), req, ReasonDecryption},
		{"not encrypted when required", all, mustSeal(t, good, sign, nil), req, ReasonNotEncrypted},
		{"encrypted when none configured", Verifier{Sign: sign.Certificate}, mustSeal(t, good, sign, enc.Certificate), req, ReasonUnexpectedEncryption},
		{"tampered ciphertext", all, tamper(mustSeal(t, good, sign, enc.Certificate), 3), req, ReasonDecryption},
		{"tampered tag", all, tamper(mustSeal(t, good, sign, enc.Certificate), 4), req, ReasonDecryption},
		{"tampered iv", all, tamper(mustSeal(t, good, sign, enc.Certificate), 2), req, ReasonDecryption},
		{"tampered signature", Verifier{Sign: sign.Certificate}, tamper(mustSeal(t, good, sign, nil), 2), req, ReasonSignature},
		{"non-canonical base64 in the signature", Verifier{Sign: sign.Certificate}, noncanonical(mustSeal(t, good, sign, nil)), req, ReasonMalformed},
		{"alg none smuggled in", all, smuggleNone(t, good, enc), req, ReasonNotSigned},
		{"RSA1_5", all, rsa15(t, mustSeal(t, good, sign, nil), enc), req, ReasonEncryptionAlgorithm},
		{"HS256 keyed with the public key", Verifier{Sign: sign.Certificate}, hs256WithPublicKey(t, good, sign), req, ReasonSignatureAlgorithm},
		{"critical extension in the JWS header", all, withHeaders(t, `{"alg":"RS512","crit":["exp"],"exp":1}`, jweHeader(enc), good, sign, enc), req, ReasonMalformed},
		{"critical extension in the JWE header", all, withHeaders(t, jwsHeader(sign), `{"alg":"RSA-OAEP","enc":"A256CBC-HS512","crit":["x"],"x":1}`, good, sign, enc), req, ReasonMalformed},
		{"alg twice in the JWS header", all, withHeaders(t, `{"alg":"RS512","alg":"none"}`, jweHeader(enc), good, sign, enc), req, ReasonMalformed},
		{"enc twice in the JWE header", all, withHeaders(t, jwsHeader(sign), `{"alg":"RSA-OAEP","enc":"A256CBC-HS512","enc":"A128GCM"}`, good, sign, enc), req, ReasonMalformed},
		{"ALG in capitals is not alg", all, withHeaders(t, `{"ALG":"RS512"}`, jweHeader(enc), good, sign, enc), req, ReasonNotSigned},
		{"kid not a string", all, withHeaders(t, `{"alg":"RS512","kid":1}`, jweHeader(enc), good, sign, enc), req, ReasonMalformed},
		{"JWS header an array", all, withHeaders(t, `["alg","RS512"]`, jweHeader(enc), good, sign, enc), req, ReasonMalformed},
		{"escaped header names", all, withHeaders(t, `{"\u0061lg":"RS512","kid":"`+sign.Thumbprint().String()+`"}`, `{"al\u0067":"RSA-OAEP","enc":"A256CBC-HS512"}`, good, sign, enc), req, ""},
		{"line break inside the token", all, lineBreak(mustSeal(t, good, sign, enc.Certificate)), req, ReasonMalformed},
		{"tag cut short", all, resizePart(mustSeal(t, good, sign, enc.Certificate), 4, 16), req, ReasonDecryption},
		{"iv cut short", all, resizePart(mustSeal(t, good, sign, enc.Certificate), 2, 8), req, ReasonDecryption},
		{"non-canonical base64 in the inner token", all, sealBytesInner(t, noncanonical(mustSeal(t, good, sign, nil)), enc), req, ReasonMalformed},
		{"inner token of four parts", all, sealBytesInner(t, mustSeal(t, good, sign, nil)+".e30", enc), req, ReasonMalformed},
		{"other application", all, mustSeal(t, good, sign, enc.Certificate), Request{Now: now, Application: "otherapp"}, ReasonApplication},
		{"other address", all, mustSeal(t, good, sign, enc.Certificate), Request{Now: now, Address: netip.MustParseAddr("10.0.0.2")}, ReasonAddress},
		{"ipv6 zone ignored", all, mustSeal(t, good, sign, enc.Certificate), Request{Now: now, Address: netip.MustParseAddr("fe80::1%eth0")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := tt.v.Open(tt.token)
			if err == nil {
				err = tok.Check(tt.req)
			}
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if tok.Claims.ID != good.ID || tok.Claims.VMID != good.VMID || tok.Claims.Applications[0] != "contosoapp" {
					t.Errorf("claims %+v, want %+v", tok.Claims, good)
				}
				return
			}
			if !IsReason(err, tt.reason) {
				t.Fatalf("got %v (%T), want reason %s", err, err, tt.reason)
			}
			// Explain must fail the same way.
			rep := tt.v.Explain(tt.token, tt.req)
			if !IsReason(rep.Err(), tt.reason) {
				t.Errorf("Explain: got %v, want reason %s", rep.Err(), tt.reason)
			}
		})
	}
}

func TestErrorMessagesNameValues(t *testing.T) {
	sign, enc, _ := testCredentials(t)
	now := time.Now()
	c := testClaims(now)
	c.Audience = "https://elsewhere"
	_, err := (&Verifier{Sign: sign.Certificate, Decrypt: enc}).Open(mustSeal(t, c, sign, enc.Certificate))
	if err == nil || !strings.Contains(err.Error(), "https://elsewhere") || !strings.Contains(err.Error(), DefaultAudience) {
		t.Errorf("audience error %q does not name both the value and the expected one", err)
	}
}

func TestExplainRunsEveryCheck(t *testing.T) {
	sign, enc, _ := testCredentials(t)
	now := time.Now()
	v := Verifier{Sign: sign.Certificate, Decrypt: enc}
	rep := v.Explain(mustSeal(t, testClaims(now), sign, enc.Certificate), Request{Now: now, Application: "contosoapp", Address: netip.MustParseAddr("10.0.0.1")})
	if rep.Err() != nil {
		t.Fatal(rep.Err())
	}
	var names []string
	for _, c := range rep.Checks {
		names = append(names, c.Name)
	}
	want := "size encryption encryption-key decryption signature-algorithm signing-key signature claims exp iss aud app id iat ip not-before expiry application address"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("checks\n got %s\nwant %s", got, want)
	}
	// A signature failure still shows the claims, marked unverified.
	_, _, other := testCredentials(t)
	rep = v.Explain(mustSeal(t, testClaims(now), &Credential{Certificate: sign.Certificate, Key: other.Key}, enc.Certificate), Request{Now: now})
	if rep.Token == nil || rep.Token.Verified || rep.Token.Claims.Applications[0] != "contosoapp" {
		t.Errorf("after a bad signature: token %+v, want unverified claims", rep.Token)
	}
}

func jwsHeader(sign *Credential) string {
	return `{"alg":"RS512","kid":"` + sign.Thumbprint().String() + `","typ":"JWT"}`
}

func jweHeader(enc *Credential) string {
	return `{"alg":"RSA-OAEP","enc":"A256CBC-HS512","kid":"` + enc.Thumbprint().String() + `","typ":"JWT","cty":"JWT"}`
}

// withHeaders seals c as Seal does, but with the protected headers given
// as JSON text, byte for byte.
func withHeaders(t *testing.T, jws, jwe string, c Claims, sign, enc *Credential) string {
	t.Helper()
	payload := must(json.Marshal(c))
	input := b64.EncodeToString([]byte(jws)) + "." + b64.EncodeToString(payload)
	digest := sha512.Sum512([]byte(input))
	sig := must(sign.Key.Sign(rand.Reader, digest[:], crypto.SHA512))
	return encryptWithHeader(t, jwe, []byte(input+"."+b64.EncodeToString(sig)), enc)
}

// encryptWithHeader encrypts plaintext as encryptJWE does, under the
// protected header given as JSON text.
func encryptWithHeader(t *testing.T, protected string, plaintext []byte, enc *Credential) string {
	t.Helper()
	cek, iv := make([]byte, 64), make([]byte, 16)
	rand.Read(cek)
	rand.Read(iv)
	wrapped := must(rsa.EncryptOAEP(sha1.New(), rand.Reader, enc.Certificate.PublicKey.(*rsa.PublicKey), cek, nil))
	aead := must(josecipher.NewCBCHMAC(cek, aes.NewCipher))
	prot := b64.EncodeToString([]byte(protected))
	sealed := aead.Seal(nil, iv, plaintext, []byte(prot))
	ct, tag := sealed[:len(sealed)-32], sealed[len(sealed)-32:]
	return strings.Join([]string{prot, b64.EncodeToString(wrapped), b64.EncodeToString(iv), b64.EncodeToString(ct), b64.EncodeToString(tag)}, ".")
}

// sealBytesInner encrypts inner, any text, as the inner token.
func sealBytesInner(t *testing.T, inner string, enc *Credential) string {
	return encryptWithHeader(t, jweHeader(enc), []byte(inner), enc)
}

// lineBreak puts a line break in the middle of the token's ciphertext.
func lineBreak(tok string) string {
	parts := strings.Split(tok, ".")
	parts[3] = parts[3][:len(parts[3])/2] + "\n" + parts[3][len(parts[3])/2:]
	return strings.Join(parts, ".")
}

// resizePart cuts a part of the token to n bytes.
func resizePart(tok string, part, n int) string {
	parts := strings.Split(tok, ".")
	b, _ := b64.DecodeString(parts[part])
	parts[part] = b64.EncodeToString(b[:n])
	return strings.Join(parts, ".")
}

// tamper flips one bit in the middle of a dot-separated part.
func tamper(tok string, part int) string {
	parts := strings.Split(tok, ".")
	b, _ := b64.DecodeString(parts[part])
	b[len(b)/2] ^= 0x01
	parts[part] = b64.EncodeToString(b)
	return strings.Join(parts, ".")
}

// noncanonical sets an unused low bit of the token's last base64url digit:
// the same bytes, another text.
func noncanonical(tok string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, tok[len(tok)-1])
	return tok[:len(tok)-1] + string(alphabet[i^1])
}

// smuggleNone encrypts an unsigned token correctly, so only the signature
// rule can refuse it.
func smuggleNone(t *testing.T, c Claims, enc *Credential) string {
	return mustSeal(t, c, nil, enc.Certificate)
}

// rsa15 encrypts the inner token with RSA1_5 using go-jose.
func rsa15(t *testing.T, inner string, enc *Credential) string {
	t.Helper()
	return encryptCompact(t, inner, jose.Recipient{Algorithm: jose.RSA1_5, Key: enc.Certificate.PublicKey, KeyID: enc.Thumbprint().String()},
		(&jose.EncrypterOptions{}).WithContentType("JWT").WithType("JWT"))
}

// encryptCompact encrypts inner to the recipient with A256CBC-HS512, using
// go-jose, in the compact form.
func encryptCompact(t testing.TB, inner string, to jose.Recipient, opts *jose.EncrypterOptions) string {
	t.Helper()
	e, err := jose.NewEncrypter(jose.A256CBC_HS512, to, opts)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := e.Encrypt([]byte(inner))
	if err != nil {
		t.Fatal(err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// compressed encrypts the inner token as production does, but with the
// payload DEFLATE-compressed ("zip":"DEF"), using go-jose.
func compressed(t testing.TB, inner string, enc *Credential) string {
	t.Helper()
	return encryptCompact(t, inner, jose.Recipient{Algorithm: jose.RSA_OAEP, Key: enc.Certificate.PublicKey, KeyID: enc.Thumbprint().String()},
		&jose.EncrypterOptions{Compression: jose.DEFLATE, ExtraHeaders: map[jose.HeaderKey]any{"typ": "JWT", "cty": "JWT"}})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// hs256WithPublicKey is the classic key-confusion attack: an HMAC keyed with
// the bytes of the RSA public key a verifier might hold.
func hs256WithPublicKey(t *testing.T, c Claims, sign *Credential) string {
	t.Helper()
	payload, _ := json.Marshal(c)
	input := header("alg", "HS256", "kid", sign.Thumbprint().String(), "typ", "JWT") + "." + b64.EncodeToString(payload)
	pub, err := x509.MarshalPKIXPublicKey(sign.Certificate.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, pub)
	m.Write([]byte(input))
	return input + "." + b64.EncodeToString(m.Sum(nil))
}

func FuzzOpen(f *testing.F) {
	sign, enc, _ := testCredentials(f)
	now := time.Now()
	tok, err := Seal(testClaims(now), sign, enc.Certificate)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tok)
	f.Add(tamper(tok, 1))
	inner, err := Seal(testClaims(now), sign, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(compressed(f, inner, enc))
	unsigned, _ := Seal(testClaims(now), nil, nil)
	f.Add(unsigned)
	f.Add("a.b.c")
	f.Add("e30.e30.")
	f.Add("....")
	v := &Verifier{Sign: sign.Certificate, Decrypt: enc}
	loose := &Verifier{}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, v := range []*Verifier{v, loose} {
			rep := v.Explain(raw, Request{Now: now, Application: "contosoapp", Address: netip.MustParseAddr("10.0.0.1")})
			tok, err := v.Open(raw)
			if (err == nil) != (tok != nil) {
				t.Fatalf("Open returned token %v and error %v", tok, err)
			}
			if err != nil && rep.Err() == nil {
				t.Fatalf("Open refused (%v) but Explain passed", err)
			}
		}
	})
}
