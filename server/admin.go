package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/seskit/ses/tool"
)

// Authorizer issues and checks the tokens of the management API: a WRAP
// token issuer (package server/acs provides one).
type Authorizer interface {
	http.Handler // serves POST /WRAPv0.9/
	// Authorize accepts a request whose Authorization header carries a
	// token issued for audience that grants action.
	Authorize(r *http.Request, audience, action string) error
}

// admin serves the management API to callers the authorizer accepts:
//
//	GET    /admin/leases       active leases, JSON
//	DELETE /admin/leases/{id}  revoke: later renewals hear 409 AlreadyReleased
//	GET    /admin/decisions    recent decisions, newest first
func (h *Handler) admin(w http.ResponseWriter, r *http.Request, path string, out *outcome) {
	if !h.admitted(w, r, out) {
		return
	}
	out.decision = tool.DecisionApproved
	now := h.cfg.Now()
	_, isLease := strings.CutPrefix(path, adminLeasesPath+"/")
	switch {
	case path == adminLeasesPath && r.Method == http.MethodGet:
		leases, _ := h.cfg.Leases.Active(now, -1)
		writeJSON(w, http.StatusOK, leases)
	case path == adminDecisionsPath && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, decisionsOf(h.cfg.Usage.recent(0, recentDecisions, UsageRecord.isDecision)))
	case isLease && r.Method == http.MethodDelete:
		note := h.leaseRequest(r, out, UsageRevoke, http.StatusNoContent, now)
		lease, err := h.cfg.Leases.revokeFor(leaseIDOf(r.URL.Path, tool.PathAdminLeases), now, note)
		out.app = lease.Application
		switch {
		case errors.Is(err, errLeaseNotFound):
			fail(w, out, tool.ReasonLeaseNotFound, "No entitlement with that id.")
		case err != nil:
			internalError(w, out, err)
		default:
			out.recorded = note.taken
			w.WriteHeader(http.StatusNoContent)
		}
	default:
		out.decision = ""
		notFound(w)
	}
}
