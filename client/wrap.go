package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/seskit/ses/tool"
)

// WrapRequest asks a WRAP v0.9 issuer for a Simple Web Token that applies
// to Scope, by one of two profiles: Name and Password (the issuer's key),
// or Assertion (an SWT signed with the issuer's key).
type WrapRequest struct {
	Scope     string
	Name      string
	Password  string
	Assertion string
}

// WrapToken is what a WRAP v0.9 issuer answers.
type WrapToken struct {
	// AccessToken is the Simple Web Token; tool.WRAPAuthorization makes
	// the Authorization header that presents it.
	AccessToken string
	// ExpiresIn is how long it is valid; zero when the issuer did not say.
	ExpiresIn time.Duration
}

// form is the request's body: its profile's fields.
func (r WrapRequest) form() (url.Values, error) {
	if r.Scope == "" {
		return nil, errors.New("a WRAP request needs a scope")
	}
	form := url.Values{tool.WRAPScope: {r.Scope}}
	switch {
	case r.Name != "" && r.Assertion != "":
		return nil, errors.New("a WRAP request takes a name and password or an assertion, not both")
	case r.Name != "":
		if r.Password == "" {
			return nil, errors.New("a WRAP request with a name needs its password")
		}
		form.Set(tool.WRAPName, r.Name)
		form.Set(tool.WRAPPassword, r.Password)
	case r.Assertion != "":
		form.Set(tool.WRAPAssertionFormat, tool.WRAPFormatSWT)
		form.Set(tool.WRAPAssertion, r.Assertion)
	default:
		return nil, errors.New("a WRAP request needs a name and password, or an assertion")
	}
	return form, nil
}

// RequestWrapToken posts req to the WRAP v0.9 token endpoint o.URL (e.g.
// https://localhost:4443/WRAPv0.9/) and returns the token it issues. The
// TLS rules are those of New (o.ExtraRoots, o.Pins, o.ExtraPins), without
// the Batch host list: the URL names the issuer. o.Timeout bounds the call;
// it is not retried. A 401 is a *DeniedError.
func RequestWrapToken(ctx context.Context, o Options, req WrapRequest) (*WrapToken, error) {
	form, err := req.form()
	if err != nil {
		return nil, err
	}
	u, err := ParseURL(o.URL)
	if err != nil {
		return nil, err
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = defaultConnectTimeout
	}
	host, err := tool.CanonicalHost(u.Hostname())
	if err != nil {
		return nil, &UntrustedError{Err: err}
	}
	hc, err := newHTTPClient(host, o)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	if o.OnAttempt != nil {
		o.OnAttempt(Attempt{Number: 1, Method: http.MethodPost, URL: u.String()})
	}
	var hs handshakeResult
	hr, err := http.NewRequestWithContext(hs.trace(ctx), http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", tool.WRAPContentType)
	resp, err := hc.Do(hr)
	if err != nil {
		err = hs.classify(err, host, o.OnHandshake)
		if _, ok := err.(*UntrustedError); !ok {
			err = &UnreachableError{Attempts: 1, Err: err}
		}
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, &UnreachableError{Attempts: 1, Err: err}
	}
	text := strings.TrimSpace(string(body))
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, &DeniedError{Status: resp.StatusCode, Code: string(tool.CodeUnauthorized), Message: text}
	case resp.StatusCode != http.StatusOK:
		return nil, &ProtocolError{Status: resp.StatusCode, Msg: text}
	}
	answer, err := url.ParseQuery(string(body))
	tok := &WrapToken{AccessToken: answer.Get(tool.WRAPAccessToken)}
	if err != nil || tok.AccessToken == "" {
		return nil, &ProtocolError{Status: resp.StatusCode, Msg: "the answer has no " + tool.WRAPAccessToken}
	}
	if secs, err := strconv.Atoi(answer.Get(tool.WRAPAccessTokenExpiresIn)); err == nil && secs > 0 {
		tok.ExpiresIn = time.Duration(secs) * time.Second
	}
	return tok, nil
}
