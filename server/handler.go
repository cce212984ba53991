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
	"strings"
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
}

// NewHandler returns the endpoint's handler.
func NewHandler(cfg HandlerConfig) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Leases == nil {
		cfg.Leases = NewLeases()
	}
	if cfg.Usage == nil {
		cfg.Usage = NewUsage(DefaultUsageRecords, cfg.Now())
	}
	cfg.Leases.Observe(cfg.Usage, cfg.Now())
	return &Handler{cfg: cfg, cache: newTokenCache(tokenCacheSize)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code tool.ErrorCode, msg string) {
	writeJSON(w, status, tool.NewErrorResponse(code, msg))
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
	path := canonical(r.URL.Path)
	switch {
	case path == entitlementsPath:
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			writeError(w, http.StatusMethodNotAllowed, tool.CodeMethodNotAllowed, "Use POST to request an entitlement.")
			return
		}
		out.entitled = true
		h.entitlement(w, r, out)
	case strings.HasPrefix(path, entitlementsPath+"/") && !strings.Contains(path[len(entitlementsPath)+1:], "/"):
		id := path[len(entitlementsPath)+1:]
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
	case path == healthPath:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	case path == statusPath && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		h.status(w, out)
	case path == statusFeedPath && r.Method == http.MethodGet:
		h.feed(w, r, out)
	case path == usagePath && r.Method == http.MethodGet:
		h.usage(w, r, out)
	case path == openAPIPath && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		openAPI(w)
	case path == docsPath && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		docs(w, out)
	case path == wrapPath && h.cfg.Auth != nil:
		h.cfg.Auth.ServeHTTP(w, r)
	case (path == adminPath || strings.HasPrefix(path, adminPath+"/")) && h.cfg.Auth != nil:
		h.admin(w, r, path, out)
	default:
		notFound(w)
	}
}

// apiVersion checks the api-version query parameter (its name in any
// case); on failure it has answered 400.
func (h *Handler) apiVersion(w http.ResponseWriter, r *http.Request, out *outcome) (tool.APIVersion, bool) {
	q := r.URL.Query()
	name, ok := q.Get(tool.QueryAPIVersion), q.Has(tool.QueryAPIVersion)
	if !ok {
		for k, vs := range q {
			if strings.EqualFold(k, tool.QueryAPIVersion) && len(vs) > 0 {
				name, ok = vs[0], true
			}
		}
	}
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

// body reads and decodes the request body; on failure it has answered. A
// body declared larger than MaxBody is refused unread, one that turns out
// larger is cut off at MaxBody.
func (h *Handler) body(w http.ResponseWriter, r *http.Request, out *outcome) (tool.EntitlementRequest, bool) {
	tooLarge := fmt.Sprintf("Request body is larger than %d bytes; denying entitlement request.", MaxBody)
	if r.ContentLength > MaxBody {
		fail(w, out, tool.ReasonBodyTooLarge, tooLarge)
		return tool.EntitlementRequest{}, false
	}
	data, err := readBody(w, r)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		fail(w, out, tool.ReasonBodyTooLarge, tooLarge)
		return tool.EntitlementRequest{}, false
	case err != nil:
		fail(w, out, tool.ReasonBodyUnreadable, "Request body could not be read; denying entitlement request.")
		return tool.EntitlementRequest{}, false
	case len(bytes.TrimSpace(data)) == 0:
		fail(w, out, tool.ReasonBodyMissing, "Missing request body; denying entitlement request.")
		return tool.EntitlementRequest{}, false
	}
	req, err := decodeRequest(data)
	if err != nil {
		fail(w, out, tool.ReasonBodyMalformed, "Malformed request body ("+err.Error()+"); denying entitlement request.")
		return tool.EntitlementRequest{}, false
	}
	out.app = req.ApplicationID
	return req, true
}

// readBody reads at most MaxBody bytes of the body, in one piece when its
// length was declared.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body := http.MaxBytesReader(w, r.Body, MaxBody)
	if r.ContentLength < 0 {
		return io.ReadAll(body)
	}
	data := make([]byte, r.ContentLength)
	_, err := io.ReadFull(body, data)
	return data, err
}

// duration reads the lease duration of a request: ISO 8601, positive, at
// most MaxLease. On failure it has answered 400.
func (h *Handler) duration(w http.ResponseWriter, req tool.EntitlementRequest, out *outcome) (time.Duration, bool) {
	d, err := tool.ParseISODuration(req.Duration)
	switch {
	case req.Duration == "":
		fail(w, out, tool.ReasonDurationMissing, "Missing duration from request body; denying entitlement request.")
	case err != nil || d <= 0:
		fail(w, out, tool.ReasonDurationInvalid, fmt.Sprintf("Duration %q is not a positive ISO 8601 duration such as PT5M; denying entitlement request.", req.Duration))
	case d > h.cfg.MaxLease:
		fail(w, out, tool.ReasonDurationTooLong, fmt.Sprintf("Duration %s is longer than the longest lease, %s; denying entitlement request.", req.Duration, tool.FormatISODuration(h.cfg.MaxLease)))
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
func (h *Handler) check(raw, app string, addr netip.Addr, now time.Time) (*tool.Token, error) {
	digest := sha256.Sum256([]byte(raw))
	tok := h.cache.get(digest, now)
	if tok == nil {
		var err error
		if tok, err = h.cfg.Verifier.Open(raw); err != nil {
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
	req, ok := h.body(w, r, out)
	if !ok {
		return
	}
	switch {
	case req.Token == "":
		fail(w, out, tool.ReasonTokenMissing, "Missing token from request body; denying entitlement request.")
		return
	case req.ApplicationID == "":
		fail(w, out, tool.ReasonApplicationMissing, "Missing applicationId from request body; denying entitlement request.")
		return
	}
	var duration time.Duration
	if v.Lease {
		if duration, ok = h.duration(w, req, out); !ok {
			return
		}
	}
	now, addr := h.cfg.Now(), peer(r)
	tok, err := h.check(req.Token, req.ApplicationID, addr, now)
	var refused *tool.CheckError
	switch {
	case errors.As(err, &refused):
		refuse(w, out, req.ApplicationID, refused)
		return
	case err != nil:
		internalError(w, out, err)
		return
	}
	switch {
	case v.Lease:
		lease, err := h.cfg.Leases.Acquire(req.ApplicationID, addr, tok.Claims.Expiry, minTime(now.Add(duration), tok.Claims.Expiry), now)
		if err != nil {
			internalError(w, out, err)
			return
		}
		out.decision, out.lease = tool.DecisionApproved, lease.ID
		writeJSON(w, http.StatusOK, tool.LeaseAcquireResponse{EntitlementID: lease.ID, InitialExpiryTime: tool.FormatTime(lease.Expiry)})
	case v.VMID:
		// These versions' clients need a vmid: the token's, else a GUID,
		// as production answered.
		vmid := tok.Claims.VMID
		if vmid == "" {
			vmid = tool.NewGUID()
		}
		out.decision = tool.DecisionApproved
		writeJSON(w, http.StatusOK, tool.EntitlementResponseV1{ID: tool.NewEntitlementID(), VMID: vmid})
	default:
		out.decision = tool.DecisionApproved
		writeJSON(w, http.StatusOK, tool.EntitlementResponseV2{ID: tool.NewEntitlementID(), Expiry: tool.FormatTime(tok.Claims.Expiry)})
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
	req, ok := h.body(w, r, out)
	if !ok {
		return
	}
	d, ok := h.duration(w, req, out)
	if !ok {
		return
	}
	lease, err := h.cfg.Leases.Renew(id, d, h.cfg.Now())
	out.app = lease.Application
	if leaseError(w, out, lease, err) {
		return
	}
	out.decision = tool.DecisionApproved
	writeJSON(w, http.StatusOK, tool.LeaseRenewResponse{ExpiryTime: tool.FormatTime(lease.Expiry)})
}

// release serves DELETE /softwareEntitlements/{id}.
func (h *Handler) release(w http.ResponseWriter, r *http.Request, id string, out *outcome) {
	if !h.leaseVersion(w, r, out) {
		return
	}
	lease, err := h.cfg.Leases.Release(id, h.cfg.Now())
	out.app = lease.Application
	if leaseError(w, out, lease, err) {
		return
	}
	out.decision = tool.DecisionApproved
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
