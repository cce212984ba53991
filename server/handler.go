package server

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/seskit/ses/tool"
)

// MaxBody is the largest request body read; larger ones get 413.
const MaxBody = 64 << 10

// Config is what the handler needs to judge requests.
type Config struct {
	Verifier *tool.Verifier
	// MaxLease is the longest lease duration granted.
	MaxLease time.Duration
	Leases   *Leases
	Log      zerolog.Logger
	// Now tells the time; nil means time.Now.
	Now func() time.Time
	// Version and Settings are shown on the status page.
	Version  string
	Settings [][2]string
	// Entitled, when set, is called after each request that reached an
	// entitlement handler, once its response is written.
	Entitled func()
	// Auth, when set, serves POST /WRAPv0.9/ and guards the admin API.
	Auth Authorizer
	// AdminAudience is the audience admin tokens must carry.
	AdminAudience string
}

// Authorizer issues and checks the tokens of the management API.
type Authorizer interface {
	http.Handler // serves POST /WRAPv0.9/
	// Authorize accepts a request whose Authorization header holds a token
	// for audience granting action.
	Authorize(r *http.Request, audience, action string) error
}

// Handler is the emulated entitlement endpoint.
type Handler struct {
	cfg       Config
	cache     *tokenCache
	decisions *decisionLog
}

// NewHandler returns the endpoint's handler.
func NewHandler(cfg Config) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Leases == nil {
		cfg.Leases = NewLeases()
	}
	return &Handler{cfg: cfg, cache: newTokenCache(100_000), decisions: newDecisionLog(50)}
}

// outcome is what a handler decided, for the log line and the status page.
type outcome struct {
	apiVersion string
	app        string
	decision   string
	reasons    []string
	detail     string // why it was denied, for the log only
	entitled   bool   // reached an entitlement handler
}

type outcomeKey struct{}

// errorBody is the error shape of DESIGN §5.
type errorBody struct {
	Code    string `json:"code"`
	Message struct {
		Lang  string `json:"lang"`
		Value string `json:"value"`
	} `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var e errorBody
	e.Code, e.Message.Lang, e.Message.Value = code, "en-us", msg
	writeJSON(w, status, e)
}

// ServeHTTP routes a request, logs it, and turns a panic into a 500.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w}
	var out outcome
	defer func() {
		if p := recover(); p != nil {
			h.cfg.Log.Error().Interface("panic", p).Str("path", r.URL.Path).Msg("handler panicked")
			if rec.status == 0 {
				writeError(rec, http.StatusInternalServerError, "InternalError", "The server failed to handle the request.")
			}
			out.decision = "error"
		}
		h.logRequest(r, rec.status, out, time.Since(start))
		if out.entitled && h.cfg.Entitled != nil {
			h.cfg.Entitled()
		}
	}()
	h.route(rec, r, &out)
}

func (h *Handler) route(w http.ResponseWriter, r *http.Request, out *outcome) {
	path := strings.TrimRight(strings.ToLower(r.URL.Path), "/")
	const base = "/softwareentitlements"
	switch {
	case path == base:
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "Use POST to request an entitlement.")
			return
		}
		out.entitled = true
		h.entitlement(w, r, out)
	case strings.HasPrefix(path, base+"/") && !strings.Contains(path[len(base)+1:], "/"):
		id := strings.TrimRight(r.URL.Path, "/")[len(base)+1:]
		out.entitled = true
		switch r.Method {
		case http.MethodPost:
			h.renew(w, r, id, out)
		case http.MethodDelete:
			h.release(w, r, id, out)
		default:
			w.Header().Set("Allow", "POST, DELETE")
			writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "Use POST to renew or DELETE to release an entitlement.")
		}
	case path == "/healthz":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	case path == "" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		h.status(w, r)
	case path == "/wrapv0.9" && h.cfg.Auth != nil:
		h.cfg.Auth.ServeHTTP(w, r)
	case strings.HasPrefix(path, "/admin/") && h.cfg.Auth != nil:
		h.admin(w, r, path, out)
	default:
		writeError(w, http.StatusNotFound, "NotFound", "The requested resource does not exist.")
	}
}

// apiVersion checks the api-version query parameter; on failure it has
// answered 400.
func (h *Handler) apiVersion(w http.ResponseWriter, r *http.Request, out *outcome) (tool.APIVersion, bool) {
	q := r.URL.Query()
	name, ok := q.Get("api-version"), q.Has("api-version")
	if !ok {
		for k, vs := range q {
			if strings.EqualFold(k, "api-version") && len(vs) > 0 {
				name, ok = vs[0], true
			}
		}
	}
	out.apiVersion = name
	if !ok || name == "" {
		h.deny(w, out, http.StatusBadRequest, "api-version-missing", "Missing api-version query parameter; denying entitlement request.")
		return tool.APIVersion{}, false
	}
	v, known := tool.LookupAPIVersion(name)
	if !known {
		h.deny(w, out, http.StatusBadRequest, "api-version-unknown", fmt.Sprintf("Specified api-version of %s is not supported; denying entitlement request.", name))
		return tool.APIVersion{}, false
	}
	return v, true
}

func (h *Handler) deny(w http.ResponseWriter, out *outcome, status int, reason, msg string) {
	out.decision = "denied"
	out.reasons = append(out.reasons, reason)
	code := "EntitlementDenied"
	if status == http.StatusRequestEntityTooLarge {
		code = "RequestBodyTooLarge"
	}
	writeError(w, status, code, msg)
}

// body reads and decodes the request body; on failure it has answered.
func (h *Handler) body(w http.ResponseWriter, r *http.Request, out *outcome) (request, bool) {
	if r.ContentLength > MaxBody {
		h.deny(w, out, http.StatusRequestEntityTooLarge, "body-too-large", fmt.Sprintf("Request body is larger than %d bytes; denying entitlement request.", MaxBody))
		return request{}, false
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		h.deny(w, out, http.StatusRequestEntityTooLarge, "body-too-large", fmt.Sprintf("Request body is larger than %d bytes; denying entitlement request.", MaxBody))
		return request{}, false
	case err != nil:
		h.deny(w, out, http.StatusBadRequest, "body-unreadable", "Request body could not be read; denying entitlement request.")
		return request{}, false
	case len(strings.TrimSpace(string(data))) == 0:
		h.deny(w, out, http.StatusBadRequest, "body-missing", "Missing request body; denying entitlement request.")
		return request{}, false
	}
	req, err := decodeRequest(data)
	if err != nil {
		h.deny(w, out, http.StatusBadRequest, "body-malformed", "Malformed request body ("+err.Error()+"); denying entitlement request.")
		return request{}, false
	}
	out.app = req.ApplicationID
	return req, true
}

// peer is the caller's address: the TCP peer, IPv4-mapped IPv6 as IPv4.
func peer(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		a, _ := netip.ParseAddr(host)
		return a.Unmap()
	}
	return ap.Addr().WithZone("").Unmap()
}

// check opens the token (from the cache when it was seen before) and checks
// it against this request.
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

func reasonOf(err error) string {
	var te *tool.Error
	if errors.As(err, &te) {
		return string(te.Reason)
	}
	return "error"
}

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
		h.deny(w, out, http.StatusBadRequest, "token-missing", "Missing token from request body; denying entitlement request.")
		return
	case req.ApplicationID == "":
		h.deny(w, out, http.StatusBadRequest, "application-missing", "Missing applicationId from request body; denying entitlement request.")
		return
	}
	now := h.cfg.Now()
	var duration time.Duration
	if v.Lease {
		if duration, ok = h.duration(w, out, req.Duration); !ok {
			return
		}
	}
	tok, err := h.check(req.Token, req.ApplicationID, peer(r), now)
	if err != nil {
		out.decision = "denied"
		out.reasons = append(out.reasons, reasonOf(err))
		out.detail = err.Error()
		writeError(w, http.StatusForbidden, "EntitlementDenied", fmt.Sprintf("Entitlement for %s was denied.", req.ApplicationID))
		return
	}
	out.decision = "approved"
	switch {
	case v.Lease:
		expiry := minTime(now.Add(duration), tok.Claims.Expiry)
		lease, err := h.cfg.Leases.Acquire(Lease{
			Application: req.ApplicationID, Remote: peer(r).String(), TokenID: tok.Claims.ID,
			TokenExpiry: tok.Claims.Expiry, Expiry: expiry,
		}, now)
		if err != nil {
			panic(fmt.Sprintf("storing a lease: %v", err))
		}
		writeJSON(w, http.StatusOK, struct {
			EntitlementID     string `json:"entitlementId"`
			InitialExpiryTime string `json:"initialExpiryTime"`
		}{lease.ID, stamp(lease.Expiry)})
	case v.VMID:
		vmid := tok.Claims.VMID
		if vmid == "" {
			vmid = tool.NewGUID()
		}
		writeJSON(w, http.StatusOK, struct {
			ID   string `json:"id"`
			VMID string `json:"vmid"`
		}{tool.NewEntitlementID(), vmid})
	default:
		writeJSON(w, http.StatusOK, struct {
			ID     string `json:"id"`
			Expiry string `json:"expiry"`
		}{tool.NewEntitlementID(), stamp(tok.Claims.Expiry)})
	}
}

// duration checks a lease duration: ISO 8601, positive, at most MaxLease.
// On failure it has answered 400.
func (h *Handler) duration(w http.ResponseWriter, out *outcome, s string) (time.Duration, bool) {
	d, err := tool.ParseISODuration(s)
	switch {
	case s == "":
		h.deny(w, out, http.StatusBadRequest, "duration-missing", "Missing duration from request body; denying entitlement request.")
	case err != nil || d <= 0:
		h.deny(w, out, http.StatusBadRequest, "duration-invalid", fmt.Sprintf("Duration %q is not a positive ISO 8601 duration such as PT5M; denying entitlement request.", s))
	case d > h.cfg.MaxLease:
		h.deny(w, out, http.StatusBadRequest, "duration-too-long", fmt.Sprintf("Duration %s is longer than the longest lease, %s; denying entitlement request.", s, tool.FormatISODuration(h.cfg.MaxLease)))
	default:
		return d, true
	}
	return 0, false
}

// leaseVersion checks that a renewal or release uses the leasing version.
func (h *Handler) leaseVersion(w http.ResponseWriter, r *http.Request, out *outcome) bool {
	v, ok := h.apiVersion(w, r, out)
	if ok && !v.Lease {
		h.deny(w, out, http.StatusBadRequest, "api-version-no-leases", fmt.Sprintf("Specified api-version of %s does not support leases; use %s.", v.Name, tool.LeaseAPIVersion))
		return false
	}
	return ok
}

func (h *Handler) renew(w http.ResponseWriter, r *http.Request, id string, out *outcome) {
	if !h.leaseVersion(w, r, out) {
		return
	}
	req, ok := h.body(w, r, out)
	if !ok {
		return
	}
	d, ok := h.duration(w, out, req.Duration)
	if !ok {
		return
	}
	now := h.cfg.Now()
	lease, err := h.cfg.Leases.Renew(id, now, func(l Lease) (time.Time, error) {
		// The token behind the lease must still be valid.
		if !now.Before(l.TokenExpiry.Add(tool.Leeway)) {
			return time.Time{}, &tool.Error{Reason: tool.ReasonExpired, Msg: "the lease's token expired at " + stamp(l.TokenExpiry)}
		}
		return minTime(now.Add(d), l.TokenExpiry), nil
	})
	out.app = lease.Application
	h.leaseAnswer(w, out, err, lease, func() {
		writeJSON(w, http.StatusOK, map[string]string{"expiryTime": stamp(lease.Expiry)})
	})
}

func (h *Handler) release(w http.ResponseWriter, r *http.Request, id string, out *outcome) {
	if !h.leaseVersion(w, r, out) {
		return
	}
	err := h.cfg.Leases.Release(id, h.cfg.Now())
	h.leaseAnswer(w, out, err, Lease{}, func() { w.WriteHeader(http.StatusNoContent) })
}

// leaseAnswer maps the outcome of a lease operation to its response.
func (h *Handler) leaseAnswer(w http.ResponseWriter, out *outcome, err error, lease Lease, ok func()) {
	var te *tool.Error
	switch {
	case err == nil:
		out.decision = "approved"
		ok()
	case errors.Is(err, errLeaseNotFound):
		out.decision, out.reasons = "denied", append(out.reasons, "lease-not-found")
		writeError(w, http.StatusNotFound, "NotFound", "No entitlement with that id.")
	case errors.Is(err, errReleased):
		out.decision, out.reasons = "denied", append(out.reasons, "lease-released")
		writeError(w, http.StatusConflict, "AlreadyReleased", "The entitlement has already been released.")
	case errors.Is(err, errLeaseExpired):
		out.decision, out.reasons = "denied", append(out.reasons, "lease-expired")
		writeError(w, http.StatusConflict, "LeaseExpired", "The entitlement lease has expired.")
	case errors.As(err, &te):
		out.decision, out.reasons, out.detail = "denied", append(out.reasons, string(te.Reason)), te.Msg
		writeError(w, http.StatusForbidden, "EntitlementDenied", fmt.Sprintf("Entitlement for %s was denied.", lease.Application))
	default:
		panic(fmt.Sprintf("lease store: %v", err))
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// statusRecorder remembers the status written.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (h *Handler) logRequest(r *http.Request, status int, out outcome, latency time.Duration) {
	if status == 0 {
		status = http.StatusOK
	}
	ev := h.cfg.Log.Info()
	if status >= 500 {
		ev = h.cfg.Log.Error()
	}
	ev.Str("method", r.Method).Str("path", r.URL.Path).Str("api_version", out.apiVersion).
		Str("app", out.app).Str("remote", peer(r).String()).Int("status", status).
		Str("decision", out.decision).Strs("reasons", out.reasons).Dur("latency", latency)
	if out.detail != "" {
		ev = ev.Str("detail", out.detail)
	}
	ev.Msg("request")
	if out.entitled {
		h.decisions.add(decision{Time: time.Now(), Method: r.Method, Path: r.URL.Path, APIVersion: out.apiVersion,
			App: out.app, Remote: peer(r).String(), Status: status, Decision: out.decision, Reasons: out.reasons})
	}
}

// decision is one entitlement request, as the status page shows it.
type decision struct {
	Time       time.Time `json:"time"`
	Method     string    `json:"method"`
	Path       string    `json:"path"`
	APIVersion string    `json:"apiVersion"`
	App        string    `json:"app"`
	Remote     string    `json:"remote"`
	Status     int       `json:"status"`
	Decision   string    `json:"decision"`
	Reasons    []string  `json:"reasons"`
}

// decisionLog keeps the last few decisions.
type decisionLog struct {
	mu   sync.Mutex
	max  int
	list []decision
}

func newDecisionLog(max int) *decisionLog { return &decisionLog{max: max} }

func (d *decisionLog) add(x decision) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.list = append(d.list, x)
	if len(d.list) > d.max {
		d.list = d.list[len(d.list)-d.max:]
	}
}

// recent returns the decisions, newest first.
func (d *decisionLog) recent() []decision {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]decision, len(d.list))
	for i, x := range d.list {
		out[len(d.list)-1-i] = x
	}
	return out
}
