package acs

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/seskit/ses/tool"
)

// Namespace is a loaded service namespace: it serves the WRAP v0.9 token
// endpoint and checks the tokens it issued.
type Namespace struct {
	issuerURL string
	issuers   map[string]*issuer
	scopes    []*scope
	now       func() time.Time
}

type issuer struct {
	name string
	keys [][]byte // current, then previous
}

type policy struct {
	name     string
	lifetime time.Duration
	key      []byte
}

type scope struct {
	appliesTo string
	url       *url.URL
	policy    *policy
	rules     []rule
}

type rule struct {
	issuer, inType, inValue string
	outType, outValue       string
	passThrough             bool
}

// claim is an input or output claim.
type claim struct{ issuer, typ, value string }

// maxForm caps a WRAP request body.
const maxForm = 16 << 10

// ServeHTTP is the WRAP v0.9 token endpoint (POST /WRAPv0.9/).
func (ns *Namespace) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	form, err := readForm(w, r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	token, expiresIn, status, err := ns.issue(form)
	if err != nil {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", "WRAP")
		}
		http.Error(w, err.Error(), status)
		return
	}
	w.Header().Set("Content-Type", tool.WRAPContentType)
	io.WriteString(w, url.Values{
		tool.WRAPAccessToken:          {token},
		tool.WRAPAccessTokenExpiresIn: {strconv.Itoa(expiresIn)},
	}.Encode())
}

// readForm reads a form-encoded body, capped and strictly parsed.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != tool.WRAPContentType {
			return nil, fmt.Errorf("the body must be application/x-www-form-urlencoded, not %q", ct)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxForm))
	if err != nil {
		return nil, fmt.Errorf("the body could not be read (at most %d bytes)", maxForm)
	}
	return decodeForm(string(body))
}

// decodeForm parses a WRAP form, refusing repeated parameters.
func decodeForm(body string) (url.Values, error) {
	form, err := url.ParseQuery(body)
	if err != nil {
		return nil, fmt.Errorf("the body is not form-encoded: %v", err)
	}
	for k, v := range form {
		if len(v) > 1 {
			return nil, fmt.Errorf("parameter %s is given %d times", k, len(v))
		}
	}
	return form, nil
}

// issue runs a WRAP request: it authenticates the caller by one profile,
// applies the scope's rules and signs the token.
func (ns *Namespace) issue(form url.Values) (token string, expiresIn, status int, err error) {
	scopeURL := form.Get(tool.WRAPScope)
	if scopeURL == "" {
		return "", 0, http.StatusBadRequest, errors.New(tool.WRAPScope + " is missing")
	}
	s := ns.match(scopeURL)
	if s == nil {
		return "", 0, http.StatusBadRequest, fmt.Errorf("no scope applies to %q", scopeURL)
	}
	var inputs []claim
	switch name, format := form.Get(tool.WRAPName), form.Get(tool.WRAPAssertionFormat); {
	case name != "" && format != "":
		return "", 0, http.StatusBadRequest, errors.New("give wrap_name and wrap_password, or wrap_assertion_format and wrap_assertion, not both")
	case name != "":
		is := ns.issuers[name]
		if is == nil || !is.password(form.Get(tool.WRAPPassword)) {
			return "", 0, http.StatusUnauthorized, errors.New("unknown issuer or wrong password")
		}
		inputs = []claim{{issuer: name, typ: "Issuer", value: name}}
	case format == tool.WRAPFormatSWT:
		if inputs, err = ns.assertion(form.Get(tool.WRAPAssertion)); err != nil {
			return "", 0, http.StatusUnauthorized, err
		}
	case format != "":
		return "", 0, http.StatusBadRequest, fmt.Errorf("wrap_assertion_format %q is not supported (SWT is)", format)
	default:
		return "", 0, http.StatusBadRequest, errors.New("no credentials: give wrap_name and wrap_password, or an SWT wrap_assertion")
	}
	outputs := s.apply(inputs)
	if len(outputs) == 0 {
		return "", 0, http.StatusUnauthorized, errors.New("the scope's rules grant this caller no claims")
	}
	now := ns.now()
	swt := tool.SWT{Issuer: ns.issuerURL, Audience: s.appliesTo, ExpiresOn: now.Add(s.policy.lifetime).Truncate(time.Second), Claims: outputs}
	return tool.SignSWT(swt, s.policy.key), int(s.policy.lifetime / time.Second), http.StatusOK, nil
}

func (is *issuer) password(p string) bool {
	ok := false
	for _, k := range is.keys {
		// The password is the issuer's key, as base64, as ACS took it.
		if want, err := tool.ParseSWTKey(p); err == nil && subtle.ConstantTimeCompare(want, k) == 1 {
			ok = true
		}
	}
	return ok
}

// assertion checks an SWT the caller signed with its issuer key and returns
// its claims as input claims.
func (ns *Namespace) assertion(raw string) ([]claim, error) {
	if raw == "" {
		return nil, errors.New("wrap_assertion is missing")
	}
	unverified, err := tool.ParseSWT(raw)
	if err != nil {
		return nil, fmt.Errorf("wrap_assertion: %v", err)
	}
	is := ns.issuers[unverified.Issuer]
	if is == nil {
		return nil, fmt.Errorf("wrap_assertion: unknown issuer %q", unverified.Issuer)
	}
	s, err := tool.VerifySWT(raw, tool.SWTExpect{Keys: is.keys, Issuer: is.name, Now: ns.now()})
	if err != nil {
		return nil, fmt.Errorf("wrap_assertion: %v", err)
	}
	inputs := []claim{{issuer: is.name, typ: "Issuer", value: is.name}}
	for _, c := range s.Claims {
		for _, v := range c.Values {
			inputs = append(inputs, claim{issuer: is.name, typ: c.Name, value: v})
		}
	}
	return inputs, nil
}

// match finds the scope for a requested URL: the longest AppliesTo that is
// the URL itself or a prefix of it on a path-segment boundary.
func (ns *Namespace) match(requested string) *scope {
	u, err := url.Parse(requested)
	if err != nil {
		return nil
	}
	var best *scope
	for _, s := range ns.scopes {
		if !strings.EqualFold(s.url.Scheme, u.Scheme) || !strings.EqualFold(s.url.Host, u.Host) {
			continue
		}
		base := strings.TrimRight(s.url.Path, "/")
		if u.Path == s.url.Path || strings.TrimRight(u.Path, "/") == base || strings.HasPrefix(u.Path, base+"/") {
			if best == nil || len(s.url.Path) > len(best.url.Path) {
				best = s
			}
		}
	}
	return best
}

// apply runs the rules over the input claims, collecting output claims by
// type with their values in order, without repeats.
func (s *scope) apply(inputs []claim) []tool.SWTClaim {
	var out []tool.SWTClaim
	add := func(typ, value string) {
		for i := range out {
			if out[i].Name == typ {
				for _, v := range out[i].Values {
					if v == value {
						return
					}
				}
				out[i].Values = append(out[i].Values, value)
				return
			}
		}
		out = append(out, tool.SWTClaim{Name: typ, Values: []string{value}})
	}
	for _, r := range s.rules {
		for _, in := range inputs {
			if in.issuer != r.issuer || in.typ != r.inType || (r.inValue != "" && r.inValue != "*" && r.inValue != in.value) {
				continue
			}
			switch {
			case r.passThrough && r.outType != "":
				add(r.outType, in.value)
			case r.passThrough:
				add(in.typ, in.value)
			default:
				add(r.outType, r.outValue)
			}
		}
	}
	return out
}

// Authorize accepts a request whose Authorization header is
// `WRAP access_token="<SWT>"`, the token issued by this namespace for the
// scope whose AppliesTo is audience, unexpired, with an action claim
// (tool.SWTClaimAction) holding action.
func (ns *Namespace) Authorize(r *http.Request, audience, action string) error {
	raw, err := wrapToken(r.Header.Get("Authorization"))
	if err != nil {
		return err
	}
	var s *scope
	for _, sc := range ns.scopes {
		if sc.appliesTo == audience {
			s = sc
		}
	}
	if s == nil {
		return fmt.Errorf("no scope applies to %s", audience)
	}
	tok, err := tool.VerifySWT(raw, tool.SWTExpect{Keys: [][]byte{s.policy.key}, Issuer: ns.issuerURL, Audience: audience, Now: ns.now()})
	if err != nil {
		return err
	}
	for _, v := range tok.Values(tool.SWTClaimAction) {
		if v == action {
			return nil
		}
	}
	return fmt.Errorf("the token grants no %q action", action)
}

// wrapToken reads `WRAP access_token="..."`.
func wrapToken(h string) (string, error) {
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
