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

// Config is what the handler needs to judge requests.
type Config struct {
	// Verifier opens tokens: certificates, issuer and audience.
	Verifier *tool.Verifier
	// MaxLease is the longest lease duration granted.
	MaxLease time.Duration
	// Leases holds the leases; nil means a new in-memory table.
	Leases *Leases
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
	return &Handler{cfg: cfg, cache: newTokenCache(tokenCacheSize), decisions: newDecisionLog(50)}
}

// errorBody is the error shape of DESIGN §5.
type errorBody struct {
	Code    string       `json:"code"`
	Message errorMessage `json:"message"`
}

type errorMessage struct {
	Lang  string `json:"lang"`
	Value string `json:"value"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, errorBody{Code: code, Message: errorMessage{Lang: "en-us", Value: msg}})
}

// internalError answers 500; the cause goes to the log only.
func internalError(w http.ResponseWriter, out *outcome, err error) {
	out.decision, out.reasons, out.detail = "error", append(out.reasons, "internal-error"), err.Error()
	writeError(w, http.StatusInternalServerError, "InternalError", "The server failed to handle the request.")
}

const entitlementsPath = "/softwareentitlements"

// route picks the handler. Paths match in any case and may end in "/", as
// the reference server's did.
func (h *Handler) route(w http.ResponseWriter, r *http.Request, out *outcome) {
	path := strings.TrimRight(strings.ToLower(r.URL.Path), "/")
	switch {
	case path == entitlementsPath:
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "Use POST to request an entitlement.")
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
			writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "Use POST to renew or DELETE to release an entitlement.")
		}
	case path == "/healthz":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	case path == "" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		h.status(w)
	case path == "/wrapv0.9" && h.cfg.Auth != nil:
		h.cfg.Auth.ServeHTTP(w, r)
	case (path == "/admin" || strings.HasPrefix(path, "/admin/")) && h.cfg.Auth != nil:
		h.admin(w, r, path, out)
	default:
		writeError(w, http.StatusNotFound, "NotFound", "The requested resource does not exist.")
	}
}

// apiVersion checks the api-version query parameter (its name in any
// case); on failure it has answered 400.
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

// fail answers a refused request with the error shape; reason goes to the
// log and the status page.
func fail(w http.ResponseWriter, out *outcome, status int, code, reason, msg string) {
	out.decision = "denied"
	out.reasons = append(out.reasons, reason)
	writeError(w, status, code, msg)
}

// deny refuses a request as EntitlementDenied (RequestBodyTooLarge for 413).
func (h *Handler) deny(w http.ResponseWriter, out *outcome, status int, reason, msg string) {
	code := "EntitlementDenied"
	if status == http.StatusRequestEntityTooLarge {
		code = "RequestBodyTooLarge"
	}
	fail(w, out, status, code, reason, msg)
}

// body reads and decodes the request body; on failure it has answered. A
// body declared larger than MaxBody is refused unread, one that turns out
// larger is cut off at MaxBody.
func (h *Handler) body(w http.ResponseWriter, r *http.Request, out *outcome) (request, bool) {
	tooLarge := fmt.Sprintf("Request body is larger than %d bytes; denying entitlement request.", MaxBody)
	if r.ContentLength > MaxBody {
		h.deny(w, out, http.StatusRequestEntityTooLarge, "body-too-large", tooLarge)
		return request{}, false
	}
	data, err := readBody(w, r)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		h.deny(w, out, http.StatusRequestEntityTooLarge, "body-too-large", tooLarge)
		return request{}, false
	case err != nil:
		h.deny(w, out, http.StatusBadRequest, "body-unreadable", "Request body could not be read; denying entitlement request.")
		return request{}, false
	case len(bytes.TrimSpace(data)) == 0:
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
func (h *Handler) duration(w http.ResponseWriter, req request, out *outcome) (time.Duration, bool) {
	d, err := tool.ParseISODuration(req.Duration)
	switch {
	case req.Duration == "":
		h.deny(w, out, http.StatusBadRequest, "duration-missing", "Missing duration from request body; denying entitlement request.")
	case err != nil || d <= 0:
		h.deny(w, out, http.StatusBadRequest, "duration-invalid", fmt.Sprintf("Duration %q is not a positive ISO 8601 duration such as PT5M; denying entitlement request.", req.Duration))
	case d > h.cfg.MaxLease:
		h.deny(w, out, http.StatusBadRequest, "duration-too-long", fmt.Sprintf("Duration %s is longer than the longest lease, %s; denying entitlement request.", req.Duration, tool.FormatISODuration(h.cfg.MaxLease)))
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
func refuse(w http.ResponseWriter, out *outcome, app string, err error) {
	out.decision = "denied"
	var te *tool.CheckError
	if errors.As(err, &te) {
		out.reasons = append(out.reasons, string(te.Reason))
	} else {
		out.reasons = append(out.reasons, "error")
	}
	out.detail = err.Error()
	writeError(w, http.StatusForbidden, "EntitlementDenied", fmt.Sprintf("Entitlement for %s was denied.", app))
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
		h.deny(w, out, http.StatusBadRequest, "token-missing", "Missing token from request body; denying entitlement request.")
		return
	case req.ApplicationID == "":
		h.deny(w, out, http.StatusBadRequest, "application-missing", "Missing applicationId from request body; denying entitlement request.")
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
	if err != nil {
		refuse(w, out, req.ApplicationID, err)
		return
	}
	switch {
	case v.Lease:
		lease, err := h.cfg.Leases.Acquire(req.ApplicationID, addr, tok.Claims.Expiry, minTime(now.Add(duration), tok.Claims.Expiry), now)
		if err != nil {
			internalError(w, out, err)
			return
		}
		out.decision = "approved"
		writeJSON(w, http.StatusOK, struct {
			EntitlementID     string `json:"entitlementId"`
			InitialExpiryTime string `json:"initialExpiryTime"`
		}{lease.ID, tool.FormatTime(lease.Expiry)})
	case v.VMID:
		// These versions' clients need a vmid: the token's, else a GUID,
		// as production answered.
		vmid := tok.Claims.VMID
		if vmid == "" {
			vmid = tool.NewGUID()
		}
		out.decision = "approved"
		writeJSON(w, http.StatusOK, struct {
			ID   string `json:"id"`
			VMID string `json:"vmid"`
		}{tool.NewEntitlementID(), vmid})
	default:
		out.decision = "approved"
		writeJSON(w, http.StatusOK, struct {
			ID     string `json:"id"`
			Expiry string `json:"expiry"`
		}{tool.NewEntitlementID(), tool.FormatTime(tok.Claims.Expiry)})
	}
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
	out.decision = "approved"
	writeJSON(w, http.StatusOK, struct {
		ExpiryTime string `json:"expiryTime"`
	}{tool.FormatTime(lease.Expiry)})
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
	out.decision = "approved"
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
		fail(w, out, http.StatusNotFound, "NotFound", "lease-not-found", "No entitlement with that id.")
	case errors.Is(err, errReleased):
		fail(w, out, http.StatusConflict, "AlreadyReleased", "lease-released", "The entitlement has already been released.")
	case errors.Is(err, errLeaseExpired):
		fail(w, out, http.StatusConflict, "LeaseExpired", "lease-expired", "The entitlement lease has expired.")
	case errors.As(err, &te):
		refuse(w, out, lease.Application, err)
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
