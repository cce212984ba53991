package server

import (
	"html/template"
	"net/http"
	"strings"
	"time"
)

var statusPage = template.Must(template.New("status").Funcs(template.FuncMap{
	"stamp": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"join":  func(s []string) string { return strings.Join(s, ", ") },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ses server</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}</style>
</head><body>
<h1>ses server</h1>
<p>{{.Version}}</p>
<h2>Configuration</h2>
<table>{{range .Settings}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>{{end}}</table>
<h2>Active leases ({{len .Leases}})</h2>
<table><tr><th>id</th><th>application</th><th>remote</th><th>expires</th></tr>
{{range .Leases}}<tr><td>{{.ID}}</td><td>{{.Application}}</td><td>{{.Remote}}</td><td>{{stamp .Expiry}}</td></tr>{{end}}</table>
<h2>Recent decisions</h2>
<table><tr><th>time</th><th>request</th><th>api-version</th><th>application</th><th>remote</th><th>status</th><th>decision</th><th>reasons</th></tr>
{{range .Decisions}}<tr><td>{{stamp .Time}}</td><td>{{.Method}} {{.Path}}</td><td>{{.APIVersion}}</td><td>{{.App}}</td><td>{{.Remote}}</td><td>{{.Status}}</td><td>{{.Decision}}</td><td>{{join .Reasons}}</td></tr>{{end}}</table>
</body></html>
`))

// status serves the HTML status page: configuration, active leases and the
// last decisions, never token contents.
func (h *Handler) status(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	statusPage.Execute(w, map[string]any{
		"Version":   h.cfg.Version,
		"Settings":  h.cfg.Settings,
		"Leases":    h.cfg.Leases.Active(h.cfg.Now()),
		"Decisions": h.decisions.recent(),
	})
}

// admin serves the management API, for callers the authorizer accepts.
func (h *Handler) admin(w http.ResponseWriter, r *http.Request, path string, out *outcome) {
	if err := h.cfg.Auth.Authorize(r, h.cfg.AdminAudience, "Manage"); err != nil {
		w.Header().Set("WWW-Authenticate", "WRAP")
		out.decision, out.reasons = "denied", []string{"admin-unauthorized"}
		h.cfg.Log.Info().Err(err).Str("path", r.URL.Path).Msg("management request refused")
		writeError(w, http.StatusUnauthorized, "Unauthorized", "A WRAP access token granting Manage is required.")
		return
	}
	now := h.cfg.Now()
	switch {
	case path == "/admin/leases" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, h.cfg.Leases.Active(now))
	case path == "/admin/decisions" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, h.decisions.recent())
	case strings.HasPrefix(path, "/admin/leases/") && r.Method == http.MethodDelete:
		id := strings.TrimRight(r.URL.Path, "/")[len("/admin/leases/"):]
		if err := h.cfg.Leases.Release(id, now); err != nil {
			writeError(w, http.StatusNotFound, "NotFound", "No entitlement with that id.")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		writeError(w, http.StatusNotFound, "NotFound", "The requested resource does not exist.")
	}
}
