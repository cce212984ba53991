package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/seskit/ses/tool"
)

// MaxBody is the largest request body read; larger ones get 413.
const MaxBody = 64 << 10

// HandlerConfig is what the handler needs to judge requests.
type HandlerConfig struct {
	// Verifier opens tokens: certificates, issuer and audience.
	Verifier *tool.Verifier
	// MaxLease is the longest lease duration granted.
	MaxLease time.Duration
	// MaxLeasesPerToken bounds the active leases one token may hold; 0
	// means DefaultMaxLeasesPerToken.
	MaxLeasesPerToken int
	// Leases holds the leases; nil means a new in-memory table.
	Leases *Leases
	// Usage is the usage record; nil means a new in-memory one. The
	// handler makes it observe Leases.
	Usage *Usage
	// Log receives one line per request.
	Log zerolog.Logger
	// Now tells the time; nil means time.Now.
	Now func() time.Time
	// Version and Settings are shown on the status page.
	Version  string
	Settings [][2]string
	// Entitled, when set, is called after each request that reached an
	// entitlement handler, once its response is written.
	Entitled func()
	// Auth, when set, serves POST /WRAPv0.9/ and guards the management API.
	Auth Authorizer
	// AdminAudience is the audience management tokens must be issued for:
	// the server's URL and "/admin".
	AdminAudience string
}

// Handler is the emulated entitlement endpoint, its status page and its
// management API.
type Handler struct {
	cfg   HandlerConfig
	cache *tokenCache
	// statusPage is the status page, rendered from cfg on its first fetch:
	// nothing on it changes while the server runs.
	statusPage func() ([]byte, error)
}

// NewHandler returns the endpoint's handler.
func NewHandler(cfg HandlerConfig) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Leases == nil {
		cfg.Leases = NewLeases()
	}
	if cfg.MaxLeasesPerToken <= 0 {
		cfg.MaxLeasesPerToken = DefaultMaxLeasesPerToken
	}
	if cfg.Usage == nil {
		cfg.Usage = NewUsage(DefaultUsageRecords, cfg.Now())
	}
	cfg.Leases.Observe(cfg.Usage, cfg.Now())
	h := &Handler{cfg: cfg, cache: newTokenCache(tokenCacheSize)}
	h.statusPage = sync.OnceValues(h.renderStatus)
	return h
}

// writeJSON answers status with v in JSON, for the answers of no fixed
// shape (the management API's lists).
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header()["Content-Type"] = jsonType
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code tool.ErrorCode, msg string) {
	respond(w, status, func(b []byte) []byte { return appendError(b, code, msg) })
}

// internalError answers 500; the cause goes to the log only.
func internalError(w http.ResponseWriter, out *outcome, err error) {
	out.detail = err.Error()
	fail(w, out, tool.ReasonInternal, "The server failed to handle the request.")
}

// notFound answers 404 for a path the server does not serve.
func notFound(w http.ResponseWriter) {
	writeError(w, http.StatusNotFound, tool.CodeNotFound, "The requested resource does not exist.")
}

// canonical is a path as the server matches it: lower case, without a final
// "/".
func canonical(path string) string { return strings.TrimRight(strings.ToLower(path), "/") }

// The paths of the wire contract, as route compares them.
var (
	entitlementsPath   = canonical(tool.PathEntitlements)
	healthPath         = canonical(tool.PathHealth)
	statusPath         = canonical(tool.PathStatus)
	statusFeedPath     = canonical(tool.PathStatusFeed)
	usagePath          = canonical(tool.PathUsage)
	wrapPath           = canonical(tool.PathWRAP)
	adminPath          = canonical(tool.PathAdmin)
	adminLeasesPath    = canonical(tool.PathAdminLeases)
	adminDecisionsPath = canonical(tool.PathAdminDecisions)
	openAPIPath        = canonical(tool.PathOpenAPI)
	docsPath           = canonical(tool.PathDocs)
)

// route picks the handler. Paths match in any case and may end in "/", as
// the reference server's did.
func (h *Handler) route(w http.ResponseWriter, r *http.Request, out *outcome) {
	path := strings.TrimRight(r.URL.Path, "/")
	switch {
	case equalFold(path, entitlementsPath):
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			writeError(w, http.StatusMethodNotAllowed, tool.CodeMethodNotAllowed, "Use POST to request an entitlement.")
			return
		}
		out.entitled = true
		h.entitlement(w, r, out)
	case hasPrefixFold(path, entitlementsPath+"/") && !strings.Contains(path[len(entitlementsPath)+1:], "/"):
		id := path[len(entitlementsPath)+1:] // as written: ids match exactly
		switch r.Method {
		case http.MethodPost:
			out.entitled = true
			h.renew(w, r, id, out)
		case http.MethodDelete:
			out.entitled = true
			h.release(w, r, id, out)
		default:
			w.Header().Set("Allow", "POST, DELETE")
			writeError(w, http.StatusMethodNotAllowed, tool.CodeMethodNotAllowed, "Use POST to renew or DELETE to release an entitlement.")
		}
	case equalFold(path, healthPath):
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	case equalFold(path, statusPath) && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		h.status(w, out)
	case equalFold(path, statusFeedPath) && r.Method == http.MethodGet:
		h.feed(w, r, out)
	case equalFold(path, usagePath) && r.Method == http.MethodGet:
		h.usage(w, r, out)
	case equalFold(path, openAPIPath) && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		openAPI(w)
	case equalFold(path, docsPath) && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		docs(w, out)
	case equalFold(path, wrapPath) && h.cfg.Auth != nil:
		h.cfg.Auth.ServeHTTP(w, r)
	case (equalFold(path, adminPath) || hasPrefixFold(path, adminPath+"/")) && h.cfg.Auth != nil:
		h.admin(w, r, canonical(path), out)
	default:
		notFound(w)
	}
}

// equalFold reports whether s is lower, a route's path, in any ASCII case.
func equalFold(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// hasPrefixFold reports whether s begins with lower in any ASCII case.
func hasPrefixFold(s, lower string) bool {
	return len(s) >= len(lower) && equalFold(s[:len(lower)], lower)
}

// leaseIDOf is the lease id in path, which names a lease under prefix in
// any case, with or without a final "/": the id as written, never changed
// in case, since ids are matched exactly; "" when path names no lease
// under prefix.
func leaseIDOf(path, prefix string) string {
	path = strings.TrimRight(path, "/")
	if len(path) <= len(prefix)+1 || !strings.EqualFold(path[:len(prefix)], prefix) || path[len(prefix)] != '/' {
		return ""
	}
	return path[len(prefix)+1:]
}

// apiVersion checks the api-version query parameter (its name in any
// case); on failure it has answered 400.
func (h *Handler) apiVersion(w http.ResponseWriter, r *http.Request, out *outcome) (tool.APIVersion, bool) {
	name, ok := queryValue(r.URL.RawQuery, tool.QueryAPIVersion)
	out.apiVersion = name
	if !ok || name == "" {
		fail(w, out, tool.ReasonAPIVersionMissing, "Missing api-version query parameter; denying entitlement request.")
		return tool.APIVersion{}, false
	}
	v, known := tool.LookupAPIVersion(name)
	if !known {
		fail(w, out, tool.ReasonAPIVersionUnknown, fmt.Sprintf("Specified api-version of %s is not supported; denying entitlement request.", name))
		return tool.APIVersion{}, false
	}
	return v, true
}

// queryValue finds the parameter name in a raw query as url.ParseQuery
// reads it (pairs it cannot read are skipped): the first one named exactly
// so, else the first whose name matches in another case. It allocates only
// for a name or a value that is escaped.
func queryValue(query, name string) (value string, found bool) {
	for exact := range 2 {
		for rest := query; rest != ""; {
			var pair string
			pair, rest, _ = strings.Cut(rest, "&")
			if pair == "" || strings.Contains(pair, ";") {
				continue
			}
			key, val, _ := strings.Cut(pair, "=")
			key, ok := unescapeQuery(key)
			if !ok || (exact == 0 && key != name) || (exact == 1 && !strings.EqualFold(key, name)) {
				continue
			}
			if val, ok = unescapeQuery(val); ok {
				return val, true
			}
		}
	}
	return "", false
}

func unescapeQuery(s string) (string, bool) {
	if !strings.ContainsAny(s, "%+") {
		return s, true
	}
	u, err := url.QueryUnescape(s)
	return u, err == nil
}

// fail answers a refused request with the status and error code of its
// reason (tool.Reason.Answer) and msg; the reason goes to the log and the
// status page.
func fail(w http.ResponseWriter, out *outcome, reason tool.Reason, msg string) {
	a, ok := reason.Answer()
	if !ok {
		a = tool.Answer{Status: http.StatusForbidden, Code: tool.CodeEntitlementDenied}
	}
	out.decision, out.message = tool.DecisionDenied, msg
	if reason == tool.ReasonInternal {
		out.decision = tool.DecisionError
	}
	out.reasons = append(out.reasons, reason)
	writeError(w, a.Status, a.Code, msg)
}

// tooLarge is the message of a body larger than MaxBody.
var tooLarge = fmt.Sprintf("Request body is larger than %d bytes; denying entitlement request.", MaxBody)

// body reads and decodes the request body into buf; on failure it has
// answered. The request's token is a slice of buf. A body declared larger
// than MaxBody is refused unread, one that turns out larger is cut off at
// MaxBody.
func (h *Handler) body(w http.ResponseWriter, r *http.Request, buf *[]byte, out *outcome) (request, bool) {
	if r.ContentLength > MaxBody {
		fail(w, out, tool.ReasonBodyTooLarge, tooLarge)
		return request{}, false
	}
	err := readBody(w, r, buf)
	data := *buf
	switch {
	case err != nil:
		if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
			fail(w, out, tool.ReasonBodyTooLarge, tooLarge)
		} else {
			fail(w, out, tool.ReasonBodyUnreadable, "Request body could not be read; denying entitlement request.")
		}
		return request{}, false
	case len(bytes.TrimSpace(data)) == 0:
		fail(w, out, tool.ReasonBodyMissing, "Missing request body; denying entitlement request.")
		return request{}, false
	}
	req, err := decodeRequest(data)
	if err != nil {
		fail(w, out, tool.ReasonBodyMalformed, "Malformed request body ("+err.Error()+"); denying entitlement request.")
		return request{}, false
	}
	out.app = req.applicationID
	return req, true
}

// readBody reads at most MaxBody bytes of the body into buf: in one piece
// when its length was declared (net/http ends the body there), else
// through a reader that stops at MaxBody.
func readBody(w http.ResponseWriter, r *http.Request, buf *[]byte) error {
	if r.ContentLength >= 0 {
		*buf = slices.Grow((*buf)[:0], int(r.ContentLength))[:r.ContentLength]
		_, err := io.ReadFull(r.Body, *buf)
		return err
	}
	body := http.MaxBytesReader(w, r.Body, MaxBody)
	b := (*buf)[:0]
	for {
		b = slices.Grow(b, 4<<10)
		n, err := body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			*buf = b
			return nil
		}
		if err != nil {
			*buf = b
			return err
		}
	}
}

// duration reads the lease duration of a request: ISO 8601, positive, at
// most MaxLease. On failure it has answered 400.
func (h *Handler) duration(w http.ResponseWriter, req request, out *outcome) (time.Duration, bool) {
	d, err := tool.ParseISODuration(req.duration)
	switch {
	case req.duration == "":
		fail(w, out, tool.ReasonDurationMissing, "Missing duration from request body; denying entitlement request.")
	case err != nil || d <= 0:
		fail(w, out, tool.ReasonDurationInvalid, fmt.Sprintf("Duration %q is not a positive ISO 8601 duration such as PT5M; denying entitlement request.", req.duration))
	case d > h.cfg.MaxLease:
		fail(w, out, tool.ReasonDurationTooLong, fmt.Sprintf("Duration %s is longer than the longest lease, %s; denying entitlement request.", req.duration, tool.FormatISODuration(h.cfg.MaxLease)))
	default:
		return d, true
	}
	return 0, false
}

// peer is the caller's address: the TCP peer, IPv4-mapped IPv6 as IPv4.
func peer(r *http.Request) netip.Addr {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().WithZone("").Unmap()
	}
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	a, _ := netip.ParseAddr(host)
	return a.WithZone("").Unmap()
}

// check opens the token, from the cache when it was seen before, and checks
// it against this request: time, application and address run every time.
func (h *Handler) check(raw []byte, app string, addr netip.Addr, now time.Time) (*tool.Token, error) {
	digest := sha256.Sum256(raw)
	tok := h.cache.get(digest, now)
	if tok == nil {
		var err error
		if tok, err = h.cfg.Verifier.Open(string(raw)); err != nil {
			return nil, err
		}
		h.cache.put(tok, now)
	}
	return tok, tok.Check(tool.Request{Now: now, Application: app, Address: addr})
}

// refuse answers 403 for a token or request check that failed; the reason
// is logged, not returned.
func refuse(w http.ResponseWriter, out *outcome, app string, err *tool.CheckError) {
	out.detail = err.Error()
	fail(w, out, err.Reason, fmt.Sprintf("Entitlement for %s was denied.", app))
}

// entitlement serves POST /softwareEntitlements: every api-version, and
// acquiring a lease with the leasing one.
func (h *Handler) entitlement(w http.ResponseWriter, r *http.Request, out *outcome) {
	v, ok := h.apiVersion(w, r, out)
	if !ok {
		return
	}
	buf := getBuffer()
	defer putBuffer(buf)
	req, ok := h.body(w, r, buf, out)
	if !ok {
		return
	}
	// The duration is checked before the token's presence, as the
	// reference server did.
	var duration time.Duration
	if v.Lease {
		if duration, ok = h.duration(w, req, out); !ok {
			return
		}
	}
	switch {
	case len(req.token) == 0:
		fail(w, out, tool.ReasonTokenMissing, "Missing token from request body; denying entitlement request.")
		return
	case req.applicationID == "":
		fail(w, out, tool.ReasonApplicationMissing, "Missing applicationId from request body; denying entitlement request.")
		return
	}
	now, addr := h.cfg.Now(), peer(r)
	tok, err := h.check(req.token, req.applicationID, addr, now)
	if err != nil {
		if refused, ok := errors.AsType[*tool.CheckError](err); ok {
			refuse(w, out, req.applicationID, refused)
		} else {
			internalError(w, out, err)
		}
		return
	}
	switch {
	case v.Lease:
		note := h.leaseRequest(r, out, UsageAcquire, http.StatusOK, now)
		lease, err := h.cfg.Leases.acquire(tok, req.applicationID, addr, minTime(now.Add(duration), tok.Claims.Expiry), now, h.cfg.MaxLeasesPerToken, note)
		if err != nil {
			if many, ok := errors.AsType[*tooManyLeasesError](err); ok {
				out.detail = err.Error()
				fail(w, out, tool.ReasonLeaseLimit, fmt.Sprintf("The token holds %d active leases, the most one token may hold; release one first.", many.limit))
			} else {
				internalError(w, out, err)
			}
			return
		}
		out.decision, out.lease, out.recorded = tool.DecisionApproved, lease.ID, note.taken
		respond(w, http.StatusOK, func(b []byte) []byte { return appendAcquired(b, lease.ID, lease.Expiry) })
	case v.VMID:
		// These versions' clients need a vmid: the token's, else a GUID,
		// as production answered.
		vmid := tok.Claims.VMID
		if vmid == "" {
			vmid = tool.NewGUID()
		}
		out.decision = tool.DecisionApproved
		respond(w, http.StatusOK, func(b []byte) []byte { return appendV1(b, vmid) })
	default:
		out.decision = tool.DecisionApproved
		respond(w, http.StatusOK, func(b []byte) []byte { return appendV2(b, tok.Claims.Expiry) })
	}
}

// leaseVersion checks that a renewal or release uses the leasing version.
func (h *Handler) leaseVersion(w http.ResponseWriter, r *http.Request, out *outcome) bool {
	v, ok := h.apiVersion(w, r, out)
	if ok && !v.Lease {
		fail(w, out, tool.ReasonAPIVersionNoLeases, fmt.Sprintf("Specified api-version of %s does not support leases; use %s.", v.Name, tool.LeaseAPIVersion))
		return false
	}
	return ok
}

// renew serves POST /softwareEntitlements/{id}.
func (h *Handler) renew(w http.ResponseWriter, r *http.Request, id string, out *outcome) {
	if !h.leaseVersion(w, r, out) {
		return
	}
	buf := getBuffer()
	defer putBuffer(buf)
	req, ok := h.body(w, r, buf, out)
	if !ok {
		return
	}
	d, ok := h.duration(w, req, out)
	if !ok {
		return
	}
	now := h.cfg.Now()
	note := h.leaseRequest(r, out, UsageRenew, http.StatusOK, now)
	lease, err := h.cfg.Leases.renewFor(id, peer(r), d, now, note)
	out.app = lease.Application
	if leaseError(w, out, lease, err) {
		return
	}
	out.decision, out.recorded = tool.DecisionApproved, note.taken
	respond(w, http.StatusOK, func(b []byte) []byte { return appendRenewed(b, lease.Expiry) })
}

// release serves DELETE /softwareEntitlements/{id}.
func (h *Handler) release(w http.ResponseWriter, r *http.Request, id string, out *outcome) {
	if !h.leaseVersion(w, r, out) {
		return
	}
	now := h.cfg.Now()
	note := h.leaseRequest(r, out, UsageRelease, http.StatusNoContent, now)
	lease, err := h.cfg.Leases.releaseFor(id, peer(r), now, note)
	out.app = lease.Application
	if leaseError(w, out, lease, err) {
		return
	}
	out.decision, out.recorded = tool.DecisionApproved, note.taken
	w.WriteHeader(http.StatusNoContent)
}

// leaseError answers a failed lease operation and reports whether err was
// one.
func leaseError(w http.ResponseWriter, out *outcome, lease Lease, err error) bool {
	var te *tool.CheckError
	switch {
	case err == nil:
		return false
	case errors.Is(err, errLeaseNotFound):
		fail(w, out, tool.ReasonLeaseNotFound, "No entitlement with that id.")
	case errors.Is(err, errReleased):
		fail(w, out, tool.ReasonLeaseReleased, "The entitlement has already been released.")
	case errors.Is(err, errLeaseExpired):
		fail(w, out, tool.ReasonLeaseExpired, "The entitlement lease has expired.")
	case errors.As(err, &te):
		refuse(w, out, lease.Application, te)
	default:
		internalError(w, out, err)
	}
	return true
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
