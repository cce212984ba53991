package server

import (
	"bytes"
	"html/template"
	"io"
	"net/http"
	"strings"

	"github.com/seskit/ses/tool"
)

// statusLeases is how many leases the status page lists; it counts them all.
const statusLeases = 100

var statusPage = template.Must(template.New("status").Funcs(template.FuncMap{
	"stamp": tool.FormatTime,
	"join": func(rs []tool.Reason) string {
		s := make([]string, len(rs))
		for i, r := range rs {
			s[i] = string(r)
		}
		return strings.Join(s, ", ")
	},
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ses server</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}</style>
</head><body>
<h1>ses server</h1>
<p>{{.Version}}</p>
<h2>Configuration</h2>
<table>{{range .Settings}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>{{end}}</table>
<h2>Active leases ({{.Total}})</h2>
<table><tr><th>id</th><th>application</th><th>remote</th><th>expires</th></tr>
{{range .Leases}}<tr><td>{{.ID}}</td><td>{{.Application}}</td><td>{{.Remote}}</td><td>{{stamp .Expiry}}</td></tr>{{end}}</table>
{{if gt .Total (len .Leases)}}<p>The {{len .Leases}} soonest to expire are shown.</p>{{end}}
<h2>Recent decisions</h2>
<table><tr><th>time</th><th>request</th><th>api-version</th><th>application</th><th>remote</th><th>status</th><th>decision</th><th>reasons</th></tr>
{{range .Decisions}}<tr><td>{{stamp .Time}}</td><td>{{.Method}} {{.Path}}</td><td>{{.APIVersion}}</td><td>{{.App}}</td><td>{{.Remote}}</td><td>{{.Status}}</td><td>{{.Decision}}</td><td>{{join .Reasons}}</td></tr>{{end}}</table>
</body></html>
`))

// status serves the HTML status page: version, configuration, active leases
// and the last decisions with their reason codes. Nothing it shows comes
// from a token's text: leases keep only the claims they need.
func (h *Handler) status(w http.ResponseWriter, out *outcome) {
	leases, total := h.cfg.Leases.Active(h.cfg.Now(), statusLeases)
	var page bytes.Buffer
	err := statusPage.Execute(&page, map[string]any{
		"Version":   h.cfg.Version,
		"Settings":  h.cfg.Settings,
		"Leases":    leases,
		"Total":     total,
		"Decisions": h.decisions.recent(),
	})
	if err != nil {
		out.detail = "status page: " + err.Error()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "The status page failed to render.\n")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	page.WriteTo(w)
}
