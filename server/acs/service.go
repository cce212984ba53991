// Package acs is the Access Control Service model of ses: a service
// namespace of issuers, token policies and scopes with rules (read from a
// file, and edited keeping its comments), a WRAP v0.9 token endpoint that
// issues Simple Web Tokens by those rules, and the check of such tokens on a
// protected API.
package acs

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seskit/ses/tool"
	"github.com/seskit/ses/wrapauth"
)

// MaxAssertionLifetime is the longest an SWT assertion may have left to
// live: a stolen assertion is worth little for long.
const MaxAssertionLifetime = time.Hour

// maxForm caps a WRAP request body.
const maxForm = 16 << 10

// Service serves a namespace: the WRAP v0.9 token endpoint and the check
// of the tokens it issued. The namespace can be replaced while it serves;
// each request uses the one in force when it began.
type Service struct {
	path     string
	endpoint string
	now      func() time.Time
	ns       atomic.Pointer[Namespace]
	throttle *throttle
	decoys   [2][]byte // stand-ins for the keys of an issuer that does not exist

	mu       sync.Mutex  // guards seen, checked and lastBad, for Watch
	seen     os.FileInfo // at the last look
	checked  os.FileInfo // the version last compared with the namespace
	lastBad  [32]byte
	reloadMu sync.Mutex // one reload at a time
}

// Options are a Service's surroundings.
type Options struct {
	// Path is the namespace file, read again by Reload and Watch.
	Path string
	// Endpoint is the WRAP endpoint's own URL: besides the namespace's URL,
	// the Audience an SWT assertion may carry.
	Endpoint string
	// Now tells the time; nil means time.Now.
	Now func() time.Time
}

// NewService serves ns.
func NewService(ns *Namespace, o Options) *Service {
	s := &Service{path: o.Path, endpoint: o.Endpoint, now: o.Now, throttle: newThrottle()}
	if s.now == nil {
		s.now = time.Now
	}
	for i := range s.decoys {
		s.decoys[i] = make([]byte, tool.MinSWTKeySize)
		rand.Read(s.decoys[i])
	}
	s.ns.Store(ns)
	return s
}

// Namespace returns the namespace in force.
func (s *Service) Namespace() *Namespace { return s.ns.Load() }

// Reload reads the namespace file again and puts it in force, unless it
// is broken: then the one in force stays, and the error says why. Requests
// in flight finish with the namespace they began with; throttling and
// everything outside the namespace carry on.
func (s *Service) Reload() error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	data, err := os.ReadFile(s.path)
	if err != nil {
		return err
	}
	ns, err := Parse(data)
	if err != nil {
		s.mu.Lock()
		s.lastBad = sha256.Sum256(data)
		s.mu.Unlock()
		return fmt.Errorf("%s: %w", s.path, err)
	}
	s.ns.Store(ns)
	return nil
}

// Watch reloads the namespace whenever reload delivers, and whenever the
// file's content changes (looked at every interval), until ctx ends. It
// calls report after each reload with its error, nil when the new
// namespace is in force. A broken file is reported once, not at every look.
func (s *Service) Watch(ctx context.Context, interval time.Duration, reload <-chan os.Signal, report func(error)) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-reload:
			report(s.Reload())
		case <-tick.C:
			if s.changed() {
				report(s.Reload())
			}
		}
	}
}

// changed tells whether the file now holds something other than the
// namespace in force and the last broken version reported. A file whose
// size, time or identity changed since the last look is left to settle
// until the next one, so that an editor's save is read whole.
func (s *Service) changed() bool {
	fi, err := os.Stat(s.path)
	if err != nil {
		return false // being replaced, or gone: keep what is in force
	}
	s.mu.Lock()
	settled := sameStat(fi, s.seen)
	checked := sameStat(fi, s.checked)
	s.seen = fi
	if settled {
		s.checked = fi
	}
	lastBad := s.lastBad
	s.mu.Unlock()
	if !settled || checked {
		return false
	}
	data, err := os.ReadFile(s.path)
	if err != nil {
		return false
	}
	sum := sha256.Sum256(data)
	return sum != s.ns.Load().sum && sum != lastBad
}

// sameStat tells whether b describes the same version of a file as a.
func sameStat(a, b os.FileInfo) bool {
	return b != nil && os.SameFile(a, b) && a.ModTime().Equal(b.ModTime()) && a.Size() == b.Size()
}

// ServeHTTP is the WRAP v0.9 token endpoint (POST /WRAPv0.9/).
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
	a := s.issue(form, peerKey(r.RemoteAddr))
	switch a.status {
	case http.StatusOK:
		w.Header().Set("Content-Type", tool.WRAPContentType)
		io.WriteString(w, url.Values{
			tool.WRAPAccessToken:          {a.token},
			tool.WRAPAccessTokenExpiresIn: {strconv.Itoa(a.expiresIn)},
		}.Encode())
		return
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", "WRAP")
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", strconv.Itoa(int((a.retry+time.Second-1)/time.Second)))
	}
	http.Error(w, a.err.Error(), a.status)
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

// answer is the outcome of a WRAP request.
type answer struct {
	status    int
	token     string
	expiresIn int
	retry     time.Duration // with 429: when to try again
	err       error
}

func refused(status int, format string, args ...any) answer {
	return answer{status: status, err: fmt.Errorf(format, args...)}
}

// Messages that must read the same whether the issuer exists or not, and
// whatever keys it has.
var (
	errPassword  = errors.New("unknown issuer or wrong password")
	errSignature = errors.New(tool.WRAPAssertion + " is not signed by the issuer it names")
)

// issue runs a WRAP request from peer: it authenticates the caller by one
// profile, maps its claims by the scope's rules and signs the token.
func (s *Service) issue(form url.Values, peer string) answer {
	ns, now := s.ns.Load(), s.now()
	scopeURL := form.Get(tool.WRAPScope)
	if scopeURL == "" {
		return refused(http.StatusBadRequest, "%s is missing", tool.WRAPScope)
	}
	if ns.match(scopeURL) == nil {
		return refused(http.StatusBadRequest, "%v", &NoScopeError{URL: scopeURL})
	}
	var (
		name   string
		claims []tool.SWTClaim
	)
	switch user, format := form.Get(tool.WRAPName), form.Get(tool.WRAPAssertionFormat); {
	case user != "" && format != "":
		return refused(http.StatusBadRequest, "give wrap_name and wrap_password, or wrap_assertion_format and wrap_assertion, not both")
	case user != "":
		keys := []string{issuerKey(user), peer}
		if wait := s.throttle.wait(now, keys...); wait > 0 {
			return tooMany(wait)
		}
		if !s.password(ns.issuers[user], form.Get(tool.WRAPPassword)) {
			s.throttle.fail(now, keys...)
			return answer{status: http.StatusUnauthorized, err: errPassword}
		}
		s.throttle.succeed(keys...)
		name = user
	case format == tool.WRAPFormatSWT:
		raw := form.Get(tool.WRAPAssertion)
		if raw == "" {
			return refused(http.StatusUnauthorized, "%s is missing", tool.WRAPAssertion)
		}
		unverified, err := tool.ParseSWT(raw)
		if err != nil {
			return refused(http.StatusUnauthorized, "%s: %v", tool.WRAPAssertion, err)
		}
		keys := []string{issuerKey(unverified.Issuer), peer}
		if wait := s.throttle.wait(now, keys...); wait > 0 {
			return tooMany(wait)
		}
		tok, err := s.assertion(ns, raw, unverified.Issuer, now)
		if errors.Is(err, errSignature) {
			s.throttle.fail(now, keys...)
		}
		if err != nil {
			return answer{status: http.StatusUnauthorized, err: err}
		}
		s.throttle.succeed(keys...)
		name, claims = tok.Issuer, tok.Claims
	case format != "":
		return refused(http.StatusBadRequest, "%s %q is not supported (%s is)", tool.WRAPAssertionFormat, format, tool.WRAPFormatSWT)
	default:
		return refused(http.StatusBadRequest, "no credentials: give wrap_name and wrap_password, or an SWT wrap_assertion")
	}
	m, err := ns.Map(scopeURL, name, claims)
	if err != nil {
		return refused(http.StatusBadRequest, "%v", err)
	}
	if len(m.Grants) == 0 {
		return refused(http.StatusUnauthorized, "the scope's rules grant this caller no claims")
	}
	token, expiresIn := m.Mint(now)
	return answer{status: http.StatusOK, token: token, expiresIn: expiresIn}
}

func tooMany(wait time.Duration) answer {
	return answer{status: http.StatusTooManyRequests, retry: wait,
		err: fmt.Errorf("too many failed attempts: try again in %s", tool.FormatDuration((wait + time.Second - 1).Truncate(time.Second)))}
}

// keysOf returns two keys to try for is: its own (current, previous),
// padded with stand-ins, so that the work done is the same for every
// issuer, existing or not.
func (s *Service) keysOf(is *issuer) [][]byte {
	keys := [][]byte{s.decoys[0], s.decoys[1]}
	if is != nil {
		copy(keys, is.keys)
	}
	return keys
}

// password checks a password-profile password: the issuer's current or
// previous key, as base64, as ACS took it.
func (s *Service) password(is *issuer, p string) bool {
	given, err := tool.ParseSWTKey(p)
	if err != nil {
		given = nil
	}
	ok := 0
	for _, k := range s.keysOf(is) {
		ok |= subtle.ConstantTimeCompare(given, k)
	}
	return is != nil && ok == 1
}

// assertion checks an SWT the caller signed with the key of the issuer it
// names: signature first (errSignature, whatever the reason), then expiry,
// audience (the namespace or this endpoint) and the lifetime left.
func (s *Service) assertion(ns *Namespace, raw, name string, now time.Time) (*tool.SWT, error) {
	is := ns.issuers[name]
	tok, err := tool.VerifySWT(raw, tool.SWTExpect{Keys: s.keysOf(is), Now: now})
	var te *tool.CheckError
	switch {
	case is == nil, errors.As(err, &te) && te.Reason == tool.ReasonSWTSignature:
		return nil, errSignature
	case err != nil:
		return nil, fmt.Errorf("%s: %v", tool.WRAPAssertion, err)
	}
	if aud := strings.TrimSuffix(tok.Audience, "/"); aud == "" ||
		aud != strings.TrimSuffix(ns.issuerURL, "/") && (s.endpoint == "" || aud != strings.TrimSuffix(s.endpoint, "/")) {
		want := ns.issuerURL
		if s.endpoint != "" {
			want += " or " + s.endpoint
		}
		return nil, fmt.Errorf("%s: its Audience is %q; an assertion must be issued for %s", tool.WRAPAssertion, tok.Audience, want)
	}
	if left := tok.ExpiresOn.Sub(now); left > MaxAssertionLifetime {
		return nil, fmt.Errorf("%s: it expires in %s; an assertion may have at most %s left", tool.WRAPAssertion, tool.FormatDuration(left.Round(time.Second)), tool.FormatDuration(MaxAssertionLifetime))
	}
	return tok, nil
}

// Authorize accepts a request whose Authorization header is
// `WRAP access_token="<SWT>"`, a token issued by the namespace in force
// for the scope whose AppliesTo is audience, unexpired, with an action
// claim (tool.SWTClaimAction) holding action.
func (s *Service) Authorize(r *http.Request, audience, action string) error {
	raw, err := wrapauth.ParseHeader(r.Header.Get("Authorization"))
	if err != nil {
		return err
	}
	tok, err := s.ns.Load().check(raw, audience, s.now())
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
