// Package wrapauth protects a net/http service with the Simple Web Tokens
// a WRAP v0.9 issuer (such as `ses server --acs`) returns: a request must
// carry `Authorization: WRAP access_token="<SWT>"`, a token signed with the
// scope's token-policy key, naming the namespace as its Issuer and the
// service as its Audience, not expired. The handler behind it finds the
// token's claims with FromContext.
//
// The package depends on the standard library and the SWT code of
// github.com/seskit/ses/tool only.
package wrapauth

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/seskit/ses/tool"
)

// Token is a Simple Web Token that passed every check: its Issuer,
// Audience, ExpiresOn and claims.
type Token = tool.SWT

// Config is what a Validator checks tokens against.
type Config struct {
	// Issuer is the namespace's URL, which every token must name.
	Issuer string
	// Audience is this service's URL: the AppliesTo of its scope.
	Audience string
	// Keys are the token policy's keys, base64-decoded: the current key,
	// then the previous one while a rollover is under way.
	Keys [][]byte
	// Now tells the time; nil means time.Now.
	Now func() time.Time
	// Refused, when set, answers a request whose token was refused. By
	// default the answer is 401 with `WWW-Authenticate: WRAP` and the
	// reason as plain text.
	Refused func(w http.ResponseWriter, r *http.Request, err error)
}

// Validator checks the WRAP access tokens of requests. It is safe for
// concurrent use, SetKeys included.
type Validator struct {
	issuer, audience string
	now              func() time.Time
	refused          func(http.ResponseWriter, *http.Request, error)
	keys             atomic.Pointer[[][]byte]
}

// New returns a Validator for cfg. Issuer, Audience and at least one key
// are required; every key must be at least tool.MinSWTKeySize bytes.
func New(cfg Config) (*Validator, error) {
	switch {
	case cfg.Issuer == "":
		return nil, errors.New("wrapauth: no issuer: give the namespace's URL")
	case cfg.Audience == "":
		return nil, errors.New("wrapauth: no audience: give the service's URL, its scope's AppliesTo")
	}
	v := &Validator{issuer: cfg.Issuer, audience: cfg.Audience, now: cfg.Now, refused: cfg.Refused}
	if v.now == nil {
		v.now = time.Now
	}
	if v.refused == nil {
		v.refused = refuse
	}
	if err := v.SetKeys(cfg.Keys...); err != nil {
		return nil, err
	}
	return v, nil
}

// SetKeys replaces the keys tokens are checked with: the current key, then
// the previous one. Requests in flight finish with the keys they started
// with.
func (v *Validator) SetKeys(keys ...[]byte) error {
	if len(keys) == 0 {
		return errors.New("wrapauth: no key: give the token policy's key")
	}
	own := make([][]byte, len(keys))
	for i, k := range keys {
		if len(k) < tool.MinSWTKeySize {
			return fmt.Errorf("wrapauth: key %d: %w", i+1, &tool.ShortKeyError{Size: len(k)})
		}
		own[i] = bytes.Clone(k)
	}
	v.keys.Store(&own)
	return nil
}

// Check returns the token of r's Authorization header when it passes
// every check.
func (v *Validator) Check(r *http.Request) (*Token, error) {
	raw, err := ParseHeader(r.Header.Get("Authorization"))
	if err != nil {
		return nil, err
	}
	tok, err := tool.VerifySWT(raw, tool.SWTExpect{Keys: *v.keys.Load(), Issuer: v.issuer, Audience: v.audience, Now: v.now()})
	var te *tool.CheckError
	if errors.As(err, &te) && te.Reason == tool.ReasonSWTSignature {
		// The check's own message counts the keys: say less.
		return nil, &tool.CheckError{Reason: te.Reason, Msg: "the token's signature does not verify"}
	}
	return tok, err
}

// Handler lets through to next the requests whose token passes, with the
// token in their context (FromContext); it answers the others as
// Config.Refused says.
func (v *Validator) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, err := v.Check(r)
		if err != nil {
			v.refused(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tokenKey{}, tok)))
	})
}

type tokenKey struct{}

// FromContext returns the token Handler accepted for the request whose
// context ctx is.
func FromContext(ctx context.Context) (*Token, bool) {
	tok, ok := ctx.Value(tokenKey{}).(*Token)
	return tok, ok
}

func refuse(w http.ResponseWriter, _ *http.Request, err error) {
	w.Header().Set("WWW-Authenticate", "WRAP")
	http.Error(w, err.Error(), http.StatusUnauthorized)
}

// ParseHeader reads an Authorization header value of the form
// `WRAP access_token="<SWT>"` (the quotes may be left out) and returns the
// token.
func ParseHeader(h string) (string, error) {
	scheme, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "WRAP") {
		return "", errors.New(`no "Authorization: WRAP access_token=..." header`)
	}
	name, value, ok := strings.Cut(strings.TrimSpace(rest), "=")
	if !ok || strings.TrimSpace(name) != "access_token" {
		return "", errors.New("the WRAP authorization has no access_token")
	}
	value = strings.TrimSpace(value)
	if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
		value = value[1 : len(value)-1]
	}
	if value == "" {
		return "", errors.New("the WRAP access_token is empty")
	}
	return value, nil
}

// ParseKeys reads a key file: one base64 key a line, the current key
// first, then the previous one; blank lines and lines starting with # are
// skipped.
func ParseKeys(data []byte) ([][]byte, error) {
	var keys [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, err := tool.ParseSWTSigningKey(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, errors.New("no key in the file")
	}
	return keys, nil
}
