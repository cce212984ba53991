package server

import (
	"fmt"
	"net/http"
	"net/netip"
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
	detail     string // why it was denied, for the log only
	entitled   bool   // reached an entitlement handler
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
			h.cfg.Log.Error().Interface("panic", p).Str("path", r.URL.Path).Msg("handler panicked")
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

// logRequest writes the request's log line and, for entitlement requests,
// keeps the decision for the status page.
func (h *Handler) logRequest(r *http.Request, status int, out *outcome, latency time.Duration) {
	if status == 0 {
		status = http.StatusOK
	}
	ev := h.cfg.Log.Info()
	if status >= 500 {
		ev = h.cfg.Log.Error()
	}
	remote := peer(r)
	if ev != nil { // nil when the level is off: skip the work
		reasons := make([]string, len(out.reasons))
		for i, r := range out.reasons {
			reasons[i] = string(r)
		}
		var addr [64]byte
		ev = ev.Str("method", r.Method).Str("path", r.URL.Path).Str("api_version", out.apiVersion).
			Str("app", out.app).Bytes("remote", remote.AppendTo(addr[:0])).Int("status", status).
			Str("decision", string(out.decision)).Strs("reasons", reasons).Dur("latency", latency)
		if out.detail != "" {
			ev = ev.Str("detail", out.detail)
		}
		ev.Msg("request")
	}
	if out.entitled {
		h.decisions.add(decision{Time: h.cfg.Now(), Method: r.Method, Path: r.URL.Path, APIVersion: out.apiVersion,
			App: out.app, Remote: remote, Status: status, Decision: out.decision, Reasons: out.reasons})
	}
}

// decision is one entitlement request, as the status page and the
// management API show it.
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

// decisionLog keeps the last few decisions in a ring.
type decisionLog struct {
	mu   sync.Mutex
	ring []decision
	next int
}

func newDecisionLog(max int) *decisionLog { return &decisionLog{ring: make([]decision, 0, max)} }

func (d *decisionLog) add(x decision) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.ring) < cap(d.ring) {
		d.ring = append(d.ring, x)
		return
	}
	d.ring[d.next] = x
	d.next = (d.next + 1) % cap(d.ring)
}

// recent returns the decisions, newest first.
func (d *decisionLog) recent() []decision {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]decision, 0, len(d.ring))
	for i := range len(d.ring) {
		// The newest is just before next (or last, while the ring fills).
		out = append(out, d.ring[(d.next-1-i+2*len(d.ring))%len(d.ring)])
	}
	return out
}
