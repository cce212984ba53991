package server

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/seskit/ses/tool"
)

// UsageCSVHeader is the first line of the usage record as CSV: one column
// per field of UsageRecord.
var UsageCSVHeader = []string{"time", "seq", "event", "app", "peer", "api_version", "status", "outcome",
	"reason", "lease", "expiry", "held_seconds", "explanation"}

// usageCSVRow is a record as a CSV row. Times are RFC 3339 in UTC to the
// millisecond; held_seconds is set for the lease changes only.
func usageCSVRow(r UsageRecord) []string {
	status, held, expiry := "", "", ""
	if r.Status != 0 {
		status = strconv.Itoa(r.Status)
	}
	if !r.Event.IsDecision() {
		held = strconv.FormatFloat(r.HeldSeconds, 'f', 3, 64)
	}
	if !r.Expiry.IsZero() {
		expiry = r.Expiry.UTC().Format(time.RFC3339Nano)
	}
	peer := ""
	if r.Peer.IsValid() {
		peer = r.Peer.String()
	}
	return []string{r.Time.UTC().Format(time.RFC3339Nano), strconv.FormatUint(r.Seq, 10), string(r.Event), r.App, peer,
		r.APIVersion, status, string(r.Outcome), r.Reason, r.Lease, expiry, held, r.Explanation}
}

// usageEncoder writes the usage record as it is read, in one format: CSV
// (a header, one row per record; the sums are not part of it) or the JSON
// of UsageReport, the records first.
type usageEncoder struct {
	w   *bufio.Writer
	csv *csv.Writer
	buf []byte // a record's JSON
	n   int
	err error
}

func newUsageEncoder(w io.Writer, format string) *usageEncoder {
	e := &usageEncoder{w: bufio.NewWriter(w)}
	if format == tool.FormatCSV {
		e.csv = csv.NewWriter(e.w)
		e.err = e.csv.Write(UsageCSVHeader)
	} else {
		_, e.err = e.w.WriteString(`{"records":[`)
	}
	return e
}

func (e *usageEncoder) add(r UsageRecord) {
	if e.err != nil {
		return
	}
	if e.csv != nil {
		e.err = e.csv.Write(usageCSVRow(r))
		return
	}
	if e.n > 0 {
		e.w.WriteByte(',')
	}
	e.n++
	e.buf = appendUsageRecord(e.buf[:0], &r)
	_, e.err = e.w.Write(e.buf)
}

func (e *usageEncoder) finish(summary []AppUsage, totals AppUsage) error {
	if e.err != nil {
		return e.err
	}
	if e.csv != nil {
		e.csv.Flush()
		if err := e.csv.Error(); err != nil {
			return err
		}
		return e.w.Flush()
	}
	if summary == nil {
		summary = []AppUsage{}
	}
	s, err := json.Marshal(summary)
	if err != nil {
		return err
	}
	t, err := json.Marshal(totals)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.w, `],"summary":%s,"totals":%s}`+"\n", s, t)
	return e.w.Flush()
}

// EncodeUsage writes rep in format (tool.FormatCSV or tool.FormatJSON)
// exactly as GET /usage answers it.
func EncodeUsage(w io.Writer, format string, rep UsageReport) error {
	e := newUsageEncoder(w, format)
	for _, r := range rep.Records {
		e.add(r)
	}
	return e.finish(rep.Summary, rep.Totals)
}

// DecodeUsage reads the JSON of GET /usage. Every record must name an
// event ses knows.
func DecodeUsage(r io.Reader) (UsageReport, error) {
	var rep UsageReport
	d := json.NewDecoder(r)
	if err := d.Decode(&rep); err != nil {
		return UsageReport{}, fmt.Errorf("the usage record is not JSON of its shape: %w", err)
	}
	if _, err := d.Token(); err != io.EOF {
		return UsageReport{}, errors.New("the usage record has data after its JSON object")
	}
	for _, rec := range rep.Records {
		if err := rec.validate(); err != nil {
			return UsageReport{}, err
		}
	}
	return rep, nil
}

// usageFormat picks the format of GET /usage: ?format=, else text/csv in
// Accept, else JSON.
func usageFormat(r *http.Request) (string, bool) {
	if f := strings.ToLower(r.URL.Query().Get(tool.QueryFormat)); f != "" {
		return f, f == tool.FormatCSV || f == tool.FormatJSON
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if t, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && t == tool.ContentTypeCSV {
			return tool.FormatCSV, true
		}
	}
	return tool.FormatJSON, true
}

// ParseUsageFilter reads the filter of GET /usage: from and to in RFC
// 3339, app as it is.
func ParseUsageFilter(q map[string][]string) (UsageFilter, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	f := UsageFilter{App: get(tool.QueryApp)}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{tool.QueryFrom, &f.From}, {tool.QueryTo, &f.To}} {
		if s := get(p.name); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return f, fmt.Errorf("%s %q is not an RFC 3339 time such as 2026-11-22T10:00:00Z", p.name, s)
			}
			*p.dst = t
		}
	}
	return f, nil
}

// usage serves GET /usage: the records the filter picks, oldest first, as
// CSV or JSON; the JSON ends with their sums per application, with the
// leases active now. With --acs it needs the admin token.
func (h *Handler) usage(w http.ResponseWriter, r *http.Request, out *outcome) {
	if h.cfg.Auth != nil && !h.admitted(w, r, out) {
		return
	}
	format, ok := usageFormat(r)
	if !ok {
		badQuery(w, out, fmt.Sprintf("%s %q: want %s or %s", tool.QueryFormat, format, tool.FormatCSV, tool.FormatJSON))
		return
	}
	filter, err := ParseUsageFilter(r.URL.Query())
	if err != nil {
		badQuery(w, out, err.Error())
		return
	}
	now := h.cfg.Now()
	if format == tool.FormatCSV {
		w.Header().Set("Content-Type", tool.ContentTypeCSV+"; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", tool.ContentTypeJSON+"; charset=utf-8")
	}
	w.Header().Set("Cache-Control", "no-store")
	e := newUsageEncoder(w, format)
	tally := newUsageTally(time.UnixMilli(0))
	err = h.cfg.Usage.each(func(rec UsageRecord) error {
		if filter.Keep(rec) {
			e.add(rec)
			tally.record(rec)
		}
		return e.err
	})
	for app, a := range h.cfg.Usage.active() {
		if filter.keepsApp(app) {
			tally.addActive(app, a)
		}
	}
	apps, totals := tally.summary(now)
	if ferr := e.finish(apps, totals); err == nil {
		err = ferr
	}
	if err != nil {
		// The answer has begun: it ends short, and the log says why.
		out.decision, out.detail = tool.DecisionError, "usage record: "+err.Error()
	}
}

// The usage record's JSON is written by hand, as encoding/json writes it
// (usage_test.go checks it): the status feed carries up to 200 records a
// second to each page open, and reflection was nearly all of its cost.

// appendUsageRecord appends r as json.Marshal writes it.
func appendUsageRecord(b []byte, r *UsageRecord) []byte {
	b = append(b, `{"time":`...)
	b = appendJSONTime(b, r.Time)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, r.Seq, 10)
	b = appendField(b, false, "event", string(r.Event))
	b = appendField(b, false, "app", r.App)
	if r.Peer.IsValid() {
		b = append(b, `,"peer":"`...)
		b = append(r.Peer.AppendTo(b), '"')
	}
	b = appendNonEmpty(b, "apiVersion", r.APIVersion)
	if r.Status != 0 {
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(r.Status), 10)
	}
	b = appendNonEmpty(b, "outcome", string(r.Outcome))
	b = appendNonEmpty(b, "reason", r.Reason)
	b = appendNonEmpty(b, "explanation", r.Explanation)
	b = appendNonEmpty(b, "lease", r.Lease)
	if !r.Expiry.IsZero() {
		b = append(b, `,"expiry":`...)
		b = appendJSONTime(b, r.Expiry)
	}
	if r.HeldSeconds != 0 {
		b = append(b, `,"heldSeconds":`...)
		b = appendJSONFloat(b, r.HeldSeconds)
	}
	return append(b, '}')
}

// appendAppUsage appends a as json.Marshal writes it.
func appendAppUsage(b []byte, a *AppUsage) []byte {
	b = appendField(append(b, '{'), true, "app", a.App)
	for _, n := range [...]struct {
		name string
		v    int
	}{{"approved", a.Approved}, {"denied", a.Denied}, {"errors", a.Errors}, {"leases", a.Leases},
		{"active", a.Active}, {"released", a.Released}, {"expired", a.Expired}} {
		b = append(append(append(b, ',', '"'), n.name...), '"', ':')
		b = strconv.AppendInt(b, int64(n.v), 10)
	}
	b = append(b, `,"heldSeconds":`...)
	return append(appendJSONFloat(b, a.HeldSeconds), '}')
}

// appendNonEmpty appends `,"name":"value"` unless value is empty, as
// omitempty does.
func appendNonEmpty(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	return appendField(b, false, name, value)
}

// appendJSONTime appends t as time.Time's MarshalJSON does.
func appendJSONTime(b []byte, t time.Time) []byte {
	return append(t.AppendFormat(append(b, '"'), time.RFC3339Nano), '"')
}

// appendJSONFloat appends f as encoding/json writes a float64: like %g,
// with the exponent cut-offs of ES6 and its exponent unpadded. A NaN or an
// infinity, which encoding/json refuses, is written 0.
func appendJSONFloat(b []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(b, '0')
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if n := len(b); format == 'e' && n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1]
		b = b[:n-1]
	}
	return b
}
