package server

import (
	"bytes"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/seskit/ses/tool"
)

// maxFeedRecords is how many records one answer of the status feed
// carries at most, the newest.
const maxFeedRecords = 200

// statusPage is the status page: one self-contained document (no build
// step, nothing fetched from elsewhere) whose script polls the status feed
// every second and draws what it says, text only (textContent), so nothing
// a request brought can become markup.
var statusPage = template.Must(template.New("status").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>ses server</title>
<style>
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;padding:1em 1.5em 3em;color:#1d1d1f;background:#f7f7f8}
header{display:flex;flex-wrap:wrap;gap:.3em 1.5em;align-items:baseline}
h1{font-size:1.4em;margin:0}
h2{font-size:1.1em;margin:1.4em 0 .4em}
.muted{color:#666}
#state.down{color:#b3261e;font-weight:600}
table{width:100%;border-collapse:collapse;table-layout:fixed;background:#fff}
th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#efeff1;font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tfoot td{font-weight:600;background:#f3f3f5}
tr.denied td{background:#fdecea}
tr.denied td:first-child{box-shadow:inset 4px 0 #c62828}
tr.error td{background:#fff4d6;font-weight:600}
tr.error td:first-child{box-shadow:inset 4px 0 #a15c00}
tr.denied td.outcome{color:#b3261e;font-weight:600}
code,.mono,td.t{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:.86em}
td.t{white-space:nowrap}
.bar{display:flex;flex-wrap:wrap;gap:.6em 1.5em;align-items:center;margin:.6em 0}
details{margin-top:.8em}
summary{cursor:pointer;color:#444}
input[type=password]{width:28em;max-width:100%}
.note{background:#eef3fb;border:1px solid #c9d8f0;padding:.5em .8em}
</style></head><body>
<header><h1>ses server</h1><span class="muted">{{.Version}}</span><span id="state" class="muted">connecting…</span></header>
<details><summary>Configuration</summary>
<table><colgroup><col style="width:13em"><col></colgroup>
{{range .Settings}}<tr><th>{{index . 0}}</th><td class="mono">{{index . 1}}</td></tr>
{{end}}</table></details>
{{if .ACS}}<form id="auth" class="bar"><label>Admin token <input id="token" type="password" autocomplete="off" placeholder="WRAP access token granting Manage"></label>
<button type="submit">Show details</button><button type="button" id="forget">Forget</button><span id="authstate" class="muted"></span></form>
{{end}}<h2>Usage by application <span id="since" class="muted"></span></h2>
<p id="countsonly" class="note" hidden>With --acs, decisions and leases are shown to the holder of an admin token; without one, only the counts.</p>
<table id="summary"><colgroup><col style="width:30%"><col><col><col><col><col><col><col><col style="width:12%"></colgroup>
<thead><tr><th>Application</th><th class="n">Approved</th><th class="n">Denied</th><th class="n">Errors</th><th class="n">Leases</th><th class="n">Active</th><th class="n">Released</th><th class="n">Expired</th><th class="n">Lease time held</th></tr></thead>
<tbody></tbody><tfoot></tfoot></table>
<div class="bar" id="filters"><label>Application <select id="fapp"><option value="">all</option></select></label>
<label>Decision <select id="fdecision"><option value="">all</option><option>approved</option><option>denied</option><option>error</option></select></label>
<span id="shown" class="muted"></span></div>
<h2>Decisions</h2>
<table id="decisions"><colgroup><col style="width:7.8em"><col style="width:10em"><col style="width:11%"><col style="width:8em"><col style="width:10em"><col style="width:4.4em"><col style="width:6.6em"><col style="width:11em"><col></colgroup>
<thead><tr><th>Time (UTC)</th><th>Request</th><th>Application</th><th>Peer</th><th>api-version</th><th>HTTP</th><th>Decision</th><th>Reason</th><th>Explanation</th></tr></thead><tbody></tbody></table>
<h2>Lease changes</h2>
<table id="leases"><colgroup><col style="width:7.8em"><col style="width:7em"><col style="width:20%"><col style="width:10em"><col style="width:7em"><col><col style="width:9em"></colgroup>
<thead><tr><th>Time (UTC)</th><th>Change</th><th>Application</th><th>Peer</th><th>Lease</th><th>Expires</th><th class="n">Held</th></tr></thead><tbody></tbody></table>
<noscript><p class="note">This page updates itself with JavaScript. Without it, read <a href="{{.Feed}}">{{.Feed}}</a>.</p></noscript>
<script>
"use strict";
(function () {
  var FEED = {{.Feed}}, KEEP = 500, TOKEN_KEY = "ses-admin-token";
  var after = 0, decisions = [], changes = [], apps = {}, token = sessionStorage.getItem(TOKEN_KEY) || "";
  var DECISIONS = {entitlement: 1, acquire: 1, renew: 1, release: 1, revoke: 1};
  function $(id) { return document.getElementById(id); }
  function td(tr, text, cls) {
    var c = document.createElement("td");
    c.textContent = text === undefined || text === null ? "" : String(text);
    if (cls) c.className = cls;
    tr.appendChild(c);
    return c;
  }
  function clock(iso) {
    var m = /T(\d\d:\d\d:\d\d)(\.\d+)?Z$/.exec(iso || "");
    return m ? m[1] + (m[2] ? (m[2] + "00").slice(0, 4) : ".000") : iso || "";
  }
  function stamp(iso) { return iso ? iso.replace("T", " ").replace(/(\.\d+)?Z$/, " UTC") : ""; }
  function held(s) {
    s = Math.round((s || 0) * 10) / 10;
    var h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), r = s % 60;
    var out = (h ? h + "h" : "") + (m ? m + "m" : "");
    return out + (r || !out ? (h || m ? Math.round(r) : r.toFixed(1)) + "s" : "");
  }
  function auth() {
    if (!token) return {};
    return {Authorization: /^WRAP /.test(token) ? token : 'WRAP access_token="' + token + '"'};
  }
  function reset() { after = 0; decisions = []; changes = []; apps = {}; }
  function summaryRow(body, a, name) {
    var tr = document.createElement("tr");
    td(tr, name === undefined ? (a.app === "" ? "(none)" : a.app) : name);
    ["approved", "denied", "errors", "leases", "active", "released", "expired"].forEach(function (k) { td(tr, a[k], "n"); });
    td(tr, held(a.heldSeconds), "n");
    body.appendChild(tr);
  }
  function draw(f) {
    $("since").textContent = "since " + stamp(f.started);
    $("countsonly").hidden = f.details;
    $("filters").hidden = !f.details;
    var body = $("summary").tBodies[0], foot = $("summary").tFoot;
    body.textContent = ""; foot.textContent = "";
    (f.apps || []).forEach(function (a) { summaryRow(body, a); apps[a.app] = 1; });
    summaryRow(foot, f.totals, "all applications");
    var sel = $("fapp"), keep = sel.value;
    while (sel.options.length > 1) sel.remove(1);
    Object.keys(apps).sort().forEach(function (a) {
      var o = document.createElement("option"); o.value = a; o.textContent = a === "" ? "(none)" : a; sel.appendChild(o);
    });
    sel.value = keep;
    var app = sel.value, dec = $("fdecision").value, shown = 0;
    var tb = $("decisions").tBodies[0];
    tb.textContent = "";
    decisions.forEach(function (r) {
      if ((app && r.app !== app) || (dec && r.outcome !== dec)) return;
      var tr = document.createElement("tr");
      tr.className = r.outcome || "";
      td(tr, clock(r.time), "t").title = r.time;
      td(tr, r.event + (r.lease ? " " + r.lease : ""), "mono");
      td(tr, r.app); td(tr, r.peer, "mono"); td(tr, r.apiVersion, "mono"); td(tr, r.status, "mono");
      td(tr, r.outcome, "outcome"); td(tr, r.reason, "mono"); td(tr, r.explanation);
      tb.appendChild(tr); shown++;
    });
    var lb = $("leases").tBodies[0];
    lb.textContent = "";
    changes.forEach(function (r) {
      if (app && r.app !== app) return;
      var tr = document.createElement("tr");
      tr.className = "lease-" + r.event;
      td(tr, clock(r.time), "t").title = r.time;
      td(tr, r.event); td(tr, r.app); td(tr, r.peer, "mono"); td(tr, r.lease, "mono");
      td(tr, stamp(r.expiry)); td(tr, held(r.heldSeconds), "n");
      lb.appendChild(tr);
    });
    $("shown").textContent = f.details ? shown + " of " + decisions.length + " decisions shown" : "";
  }
  var last = null;
  function apply(f) {
    if (f.seq < after) reset(); // a new server
    var recs = (f.records || []).slice().reverse();
    recs.forEach(function (r) {
      (DECISIONS[r.event] ? decisions : changes).unshift(r);
      apps[r.app] = 1;
    });
    decisions.length = Math.min(decisions.length, KEEP);
    changes.length = Math.min(changes.length, KEEP);
    if (f.details) after = f.seq;
    last = f;
    draw(f);
  }
  function poll() {
    fetch(FEED + "?after=" + after, {headers: auth(), cache: "no-store"}).then(function (r) {
      if (r.status === 401) {
        token = ""; sessionStorage.removeItem(TOKEN_KEY); reset();
        if ($("authstate")) $("authstate").textContent = "the token was refused";
        return null;
      }
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (f) {
      if (f) {
        apply(f);
        $("state").textContent = "live, updated " + clock(f.now);
        $("state").className = "muted";
      }
    }).catch(function (e) {
      $("state").textContent = "disconnected (" + e.message + "), retrying";
      $("state").className = "down";
    }).then(function () { setTimeout(poll, 1000); });
  }
  $("fapp").onchange = $("fdecision").onchange = function () { if (last) draw(last); };
  if ($("auth")) {
    $("auth").onsubmit = function (e) {
      e.preventDefault();
      token = $("token").value.trim(); $("token").value = "";
      sessionStorage.setItem(TOKEN_KEY, token); reset();
      $("authstate").textContent = token ? "token set" : "";
    };
    $("forget").onclick = function () { token = ""; sessionStorage.removeItem(TOKEN_KEY); reset(); $("authstate").textContent = ""; };
  }
  poll();
})();
</script>
</body></html>
`))

// renderStatus renders the status page from the handler's settings.
func (h *Handler) renderStatus() ([]byte, error) {
	var page bytes.Buffer
	err := statusPage.Execute(&page, map[string]any{
		"Version":  h.cfg.Version,
		"Settings": h.cfg.Settings,
		"ACS":      h.cfg.Auth != nil,
		"Feed":     tool.PathStatusFeed,
	})
	return page.Bytes(), err
}

// status serves the status page. It reads nothing of the leases: the
// page's script asks the feed.
func (h *Handler) status(w http.ResponseWriter, out *outcome) {
	page, err := h.statusPage()
	if err != nil {
		pageFailed(w, out, "status page", err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'")
	w.Write(page)
}

// pageFailed answers 500 for a page (what) that failed to render; the
// cause goes to the log.
func pageFailed(w http.ResponseWriter, out *outcome, what string, err error) {
	out.detail = what + ": " + err.Error()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	io.WriteString(w, "The "+what+" failed to render.\n")
}

// statusFeed is the body of GET /status.json: the sums per application
// and the newest records after the one the page has. Without Details
// (with --acs, to a caller without the admin token) it holds only the
// totals.
type statusFeed struct {
	Version string        `json:"version"`
	Now     time.Time     `json:"now"`
	Started time.Time     `json:"started"`
	Seq     uint64        `json:"seq"`
	Details bool          `json:"details"`
	Totals  AppUsage      `json:"totals"`
	Apps    []AppUsage    `json:"apps,omitempty"`
	Records []UsageRecord `json:"records,omitempty"`
}

// feed serves GET /status.json from the usage record's sums and ring:
// nothing in it depends on how many leases are held, and the lease
// table's lock is never taken.
func (h *Handler) feed(w http.ResponseWriter, r *http.Request, out *outcome) {
	details, ok := h.details(w, r, out)
	if !ok {
		return
	}
	var after uint64
	if s := r.URL.Query().Get(tool.QueryAfter); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			badQuery(w, out, tool.QueryAfter+" is not a record number")
			return
		}
		after = n
	}
	f := statusFeed{Version: h.cfg.Version, Now: h.cfg.Now().UTC(), Details: details}
	var recs feedRecords
	f.Seq, f.Started, f.Apps, f.Totals = h.cfg.Usage.snapshot(f.Now, after, maxFeedRecords, details, &recs)
	h.cfg.Usage.encode(&recs)
	w.Header().Set("Cache-Control", "no-store")
	buf := feedBuffers.Get().(*[]byte)
	*buf = appendFeed((*buf)[:0], &f, recs.json)
	writeBody(w, http.StatusOK, *buf)
	feedBuffers.Put(buf)
}

// feedBuffers holds the buffers the status feed is written into: a feed of
// 200 records is some tens of kilobytes.
var feedBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// appendFeed appends f as json.Encoder writes it (usage_test.go checks
// it), with records, the JSON of its records, in place of f.Records.
func appendFeed(b []byte, f *statusFeed, records [][]byte) []byte {
	b = appendField(append(b, '{'), true, "version", f.Version)
	b = appendJSONTime(append(b, `,"now":`...), f.Now)
	b = appendJSONTime(append(b, `,"started":`...), f.Started)
	b = strconv.AppendUint(append(b, `,"seq":`...), f.Seq, 10)
	b = strconv.AppendBool(append(b, `,"details":`...), f.Details)
	b = appendAppUsage(append(b, `,"totals":`...), &f.Totals)
	if len(f.Apps) > 0 {
		b = append(b, `,"apps":[`...)
		for i := range f.Apps {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendAppUsage(b, &f.Apps[i])
		}
		b = append(b, ']')
	}
	if len(records) > 0 {
		b = append(b, `,"records":[`...)
		for i, r := range records {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, r...)
		}
		b = append(b, ']')
	}
	return append(b, "}\n"...)
}

// details reports whether a caller may see decisions and leases: always
// without --acs; with it, a caller whose Authorization header carries a
// management token. A token that does not pass is answered 401.
func (h *Handler) details(w http.ResponseWriter, r *http.Request, out *outcome) (details, ok bool) {
	switch {
	case h.cfg.Auth == nil:
		return true, true
	case r.Header.Get("Authorization") == "":
		return false, true
	case !h.admitted(w, r, out):
		return false, false
	}
	return true, true
}

// admitted checks the caller's management token; a caller without one
// has been answered 401.
func (h *Handler) admitted(w http.ResponseWriter, r *http.Request, out *outcome) bool {
	if err := h.cfg.Auth.Authorize(r, h.cfg.AdminAudience, tool.ActionManage); err != nil {
		w.Header().Set("WWW-Authenticate", "WRAP")
		out.detail = err.Error()
		fail(w, out, tool.ReasonAdminUnauthorized, "A WRAP access token granting Manage is required.")
		return false
	}
	return true
}

// badQuery answers 400 for a query the feed or the usage record cannot
// answer.
func badQuery(w http.ResponseWriter, out *outcome, msg string) {
	out.detail = msg
	writeError(w, http.StatusBadRequest, tool.CodeBadRequest, msg+".")
}
