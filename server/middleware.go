package server

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/seskit/ses/tool"
)

// outcome is what a handler decided, for the log line and the status page.
type outcome struct {
	apiVersion string
	app        string
	decision   tool.Decision // "" for pages other than entitlement requests
	reasons    []tool.Reason
	detail     string // why it was denied, for the log (and, when denied, the status page)
	message    string // the message answered with a refusal
	lease      string // the id of the lease acquired
	entitled   bool   // reached an entitlement handler
}

// ServeHTTP routes a request and then logs it. A panic in a handler becomes
// a 500 JSON body and a log line; the server goes on.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w}
	var out outcome
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p) // net/http's way to drop a connection on purpose
			}
			if rec.status == 0 {
				internalError(rec, &out, fmt.Errorf("panic: %v", p))
			} else {
				out.decision, out.detail = tool.DecisionError, fmt.Sprintf("panic after the response began: %v", p)
			}
			h.cfg.Log.Error().Str("panic", redactIDs(fmt.Sprint(p))).Str("path", redactPath(r.URL.Path)).Msg("handler panicked")
		}
		h.logRequest(r, rec.status, &out, time.Since(start))
		if out.entitled && h.cfg.Entitled != nil {
			h.cfg.Entitled()
		}
	}()
	h.route(rec, r, &out)
}

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

// Unwrap lets http.ResponseController reach the connection's writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logRequest writes the request's log line and, for the requests the
// usage record keeps, its record, committed (with --state) before the
// answer leaves: net/http sends a small answer only once ServeHTTP
// returns. Lease ids appear as their fingerprint, in the path too.
func (h *Handler) logRequest(r *http.Request, status int, out *outcome, latency time.Duration) {
	if status == 0 {
		status = http.StatusOK
	}
	remote := peer(r).String()
	event, leaseID := h.usageEvent(r, out)
	fingerprint := ""
	if leaseID != "" {
		fingerprint = leaseFingerprint(leaseID)
	}
	reasons := make([]string, len(out.reasons))
	for i, r := range out.reasons {
		reasons[i] = string(r)
	}
	ev := h.cfg.Log.Info()
	if status >= 500 {
		ev = h.cfg.Log.Error()
	}
	if ev != nil { // nil when the level is off: skip the work
		ev = ev.Str("method", r.Method).Str("path", redactPath(r.URL.Path)).Str("api_version", out.apiVersion).
			Str("app", out.app).Str("remote", remote).Int("status", status).
			Str("decision", string(out.decision)).Strs("reasons", reasons).Dur("latency", latency)
		if fingerprint != "" {
			ev = ev.Str("lease", fingerprint)
		}
		if out.detail != "" {
			ev = ev.Str("detail", redactIDs(out.detail))
		}
		ev.Msg("request")
	}
	if event == "" {
		return
	}
	h.cfg.Usage.add(UsageRecord{Time: h.cfg.Now(), Event: event, App: out.app, Peer: remote, APIVersion: out.apiVersion,
		Status: status, Outcome: out.decision, Reason: strings.Join(reasons, " "), Explanation: redactIDs(out.explanation()),
		Lease: fingerprint})
	if err := h.cfg.Usage.Flush(); err != nil {
		h.cfg.Log.Error().Err(err).Msg("usage record not written")
	}
}

// explanation is what the status page and the usage record say of a
// refusal: the verifier's explanation (the log's detail), else the
// answer's message. A failure of the server says only that it failed: its
// cause is for the log.
func (o *outcome) explanation() string {
	switch {
	case o.decision == tool.DecisionDenied && o.detail != "":
		return o.detail
	case o.decision != tool.DecisionApproved:
		return o.message
	}
	return ""
}

// usageEvent names the decision a request is for the usage record ("" for
// those it does not keep) and the lease it names, as the client wrote it.
func (h *Handler) usageEvent(r *http.Request, out *outcome) (UsageEvent, string) {
	path := canonical(r.URL.Path)
	switch {
	case out.entitled && path == entitlementsPath:
		if v, ok := tool.LookupAPIVersion(out.apiVersion); ok && v.Lease {
			return UsageAcquire, out.lease
		}
		return UsageEntitlement, ""
	case out.entitled && r.Method == http.MethodDelete:
		id, _ := leaseIDInPath(r.URL.Path, tool.PathEntitlements)
		return UsageRelease, id
	case out.entitled:
		id, _ := leaseIDInPath(r.URL.Path, tool.PathEntitlements)
		return UsageRenew, id
	case h.cfg.Auth != nil && r.Method == http.MethodDelete && strings.HasPrefix(path, adminLeasesPath+"/"):
		id, _ := leaseIDInPath(r.URL.Path, tool.PathAdminLeases)
		return UsageRevoke, id
	}
	return "", ""
}

// leaseIDInPath is what follows prefix (in any case) and a "/" in path,
// without final "/"s: the lease id of a renewal, release or revocation.
func leaseIDInPath(path, prefix string) (string, bool) {
	if len(path) <= len(prefix)+1 || !strings.EqualFold(path[:len(prefix)], prefix) || path[len(prefix)] != '/' {
		return "", false
	}
	id := strings.TrimRight(path[len(prefix)+1:], "/")
	return id, id != ""
}

// leaseIDs finds what looks like a lease id in a message: 32 hex digits
// on their own.
var leaseIDs = regexp.MustCompile(`\b[0-9a-fA-F]{32}\b`)

// redactIDs shows the lease ids in a message (an error of the lease file,
// say) as their fingerprints in braces.
func redactIDs(s string) string {
	return leaseIDs.ReplaceAllStringFunc(s, func(id string) string { return "{" + leaseFingerprint(id) + "}" })
}

// redactPath shows a path that names a lease with the lease's fingerprint
// in braces in place of its id: /softwareEntitlements/{1a2b3c4d}.
func redactPath(path string) string {
	for _, prefix := range []string{tool.PathEntitlements, tool.PathAdminLeases} {
		if id, ok := leaseIDInPath(path, prefix); ok {
			return path[:len(prefix)+1] + "{" + leaseFingerprint(id) + "}"
		}
	}
	return path
}

// decision is a decision of the usage record as GET /admin/decisions
// answers it.
type decision struct {
	Time       time.Time     `json:"time"`
	Method     string        `json:"method"`
	Path       string        `json:"path"`
	APIVersion string        `json:"apiVersion"`
	App        string        `json:"app"`
	Remote     string        `json:"remote"`
	Status     int           `json:"status"`
	Decision   tool.Decision `json:"decision"`
	Reasons    []tool.Reason `json:"reasons"`
}

// decisionsOf turns decision records into the management API's decisions:
// the request's method and path follow from the record's event, a lease
// in the path named by its fingerprint.
func decisionsOf(recs []UsageRecord) []decision {
	out := make([]decision, 0, len(recs))
	for _, r := range recs {
		d := decision{Time: r.Time, Method: http.MethodPost, Path: tool.PathEntitlements, APIVersion: r.APIVersion,
			App: r.App, Remote: r.Peer, Status: r.Status, Decision: r.Outcome}
		switch r.Event {
		case UsageRenew:
			d.Path += "/{" + r.Lease + "}"
		case UsageRelease:
			d.Method, d.Path = http.MethodDelete, d.Path+"/{"+r.Lease+"}"
		case UsageRevoke:
			d.Method, d.Path = http.MethodDelete, tool.PathAdminLeases+"/{"+r.Lease+"}"
		}
		for _, reason := range strings.Fields(r.Reason) {
			d.Reasons = append(d.Reasons, tool.Reason(reason))
		}
		out = append(out, d)
	}
	return out
}
