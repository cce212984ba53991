package server

import (
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"sync"
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
	recorded   bool   // its decision was recorded with the lease change it made
}

// ServeHTTP routes a request and then logs it. A panic in a handler becomes
// a 500 JSON body and a log line; the server goes on.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := recorders.Get().(*statusRecorder)
	*rec = statusRecorder{ResponseWriter: w}
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
		*rec = statusRecorder{}
		recorders.Put(rec)
		if out.entitled && h.cfg.Entitled != nil {
			h.cfg.Entitled()
		}
	}()
	h.route(rec, r, &out)
}

// recorders are the statusRecorders of requests in flight, reused.
var recorders = sync.Pool{New: func() any { return new(statusRecorder) }}

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
// returns. The decision on a lease change was recorded with the change.
// Lease ids appear as their fingerprint, in the path too.
func (h *Handler) logRequest(r *http.Request, status int, out *outcome, latency time.Duration) {
	if status == 0 {
		status = http.StatusOK
	}
	event, leaseID := h.usageEvent(r, out)
	fingerprint := ""
	if leaseID != "" {
		fingerprint = Lease{ID: leaseID}.Fingerprint()
	}
	remote := peer(r)
	ev := h.cfg.Log.Info()
	if status >= 500 {
		ev = h.cfg.Log.Error()
	}
	if ev != nil { // nil when the level is off: skip the work
		reasons := make([]string, len(out.reasons))
		for i, r := range out.reasons {
			reasons[i] = string(r)
		}
		var addr [64]byte
		ev = ev.Str("method", r.Method).Str("path", redactPath(r.URL.Path)).Str("api_version", out.apiVersion).
			Str("app", out.app).Bytes("remote", remote.AppendTo(addr[:0])).Int("status", status).
			Str("decision", string(out.decision)).Strs("reasons", reasons).Dur("latency", latency)
		if fingerprint != "" {
			ev = ev.Str("lease", fingerprint)
		}
		if out.detail != "" {
			ev = ev.Str("detail", redactIDs(out.detail))
		}
		ev.Msg("request")
	}
	if event == "" || out.recorded {
		return
	}
	rec := decisionRecord(remote, out, event, status, h.cfg.Now())
	rec.Lease = fingerprint
	if err := h.cfg.Usage.add(rec).wait(); err != nil {
		h.cfg.Log.Error().Err(err).Msg("usage record not written")
	}
}

// decisionRecord is the usage record's entry of the decision on a request
// from remote.
func decisionRecord(remote netip.Addr, out *outcome, event UsageEvent, status int, now time.Time) UsageRecord {
	return UsageRecord{Time: now, Event: event, App: out.app, Peer: remote, APIVersion: out.apiVersion,
		Status: status, Outcome: out.decision, Reason: reasonText(out.reasons), Explanation: redactIDs(out.explanation())}
}

// leaseRequest is the decision of a request asking for a lease change, as
// it is when the change is made (approved, answered status), for the
// lease table to record with the change.
func (h *Handler) leaseRequest(r *http.Request, out *outcome, event UsageEvent, status int, now time.Time) *leaseRequest {
	return &leaseRequest{record: UsageRecord{Time: now, Event: event, Peer: peer(r), APIVersion: out.apiVersion,
		Status: status, Outcome: tool.DecisionApproved}}
}

// reasonText is the reason codes as the usage record keeps them: separated
// by spaces.
func reasonText(reasons []tool.Reason) string {
	switch len(reasons) {
	case 0:
		return ""
	case 1:
		return string(reasons[0])
	}
	text := make([]string, len(reasons))
	for i, r := range reasons {
		text[i] = string(r)
	}
	return strings.Join(text, " ")
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
	path := strings.TrimRight(r.URL.Path, "/")
	switch {
	case out.entitled && equalFold(path, entitlementsPath):
		if v, ok := tool.LookupAPIVersion(out.apiVersion); ok && v.Lease {
			return UsageAcquire, out.lease
		}
		return UsageEntitlement, ""
	case out.entitled && r.Method == http.MethodDelete:
		return UsageRelease, leaseIDOf(r.URL.Path, tool.PathEntitlements)
	case out.entitled:
		return UsageRenew, leaseIDOf(r.URL.Path, tool.PathEntitlements)
	case h.cfg.Auth != nil && r.Method == http.MethodDelete && leaseIDOf(path, tool.PathAdminLeases) != "":
		return UsageRevoke, leaseIDOf(r.URL.Path, tool.PathAdminLeases)
	}
	return "", ""
}

// leaseIDs finds what looks like a lease id in a message: 32 hex digits
// on their own.
var leaseIDs = regexp.MustCompile(`\b[0-9a-fA-F]{32}\b`)

// redactIDs shows the lease ids in a message (an error of the lease file,
// say) as their fingerprints in braces.
func redactIDs(s string) string {
	if len(s) < 2*len(leaseID{}) {
		return s
	}
	return leaseIDs.ReplaceAllStringFunc(s, func(id string) string { return "{" + Lease{ID: id}.Fingerprint() + "}" })
}

// redactPath shows a path that names a lease with the lease's fingerprint
// in braces in place of its id: /softwareEntitlements/{1a2b3c4d}.
func redactPath(path string) string {
	for _, prefix := range [...]string{tool.PathEntitlements, tool.PathAdminLeases} {
		if id := leaseIDOf(path, prefix); id != "" {
			return path[:len(prefix)+1] + "{" + Lease{ID: id}.Fingerprint() + "}"
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
	Remote     netip.Addr    `json:"remote"`
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
