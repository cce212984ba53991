package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/seskit/ses/tool"
)

// feedOf decodes a status feed answer.
func feedOf(t *testing.T, r response) statusFeed {
	t.Helper()
	var f statusFeed
	if r.status != 200 {
		t.Fatalf("status feed: %d %s", r.status, r.raw)
	}
	if err := json.Unmarshal([]byte(r.raw), &f); err != nil {
		t.Fatalf("status feed: %v: %s", err, r.raw)
	}
	return f
}

func appOf(f statusFeed, app string) AppUsage {
	for _, a := range f.Apps {
		if a.App == app {
			return a
		}
	}
	return AppUsage{}
}

// TestStatusPage: one document, nothing fetched from elsewhere, the
// configuration in it, and a script that polls the feed.
func TestStatusPage(t *testing.T) {
	f := newFixture(t, func(c *HandlerConfig) {
		c.Version = "ses 1.2.3"
		c.Settings = [][2]string{{"max lease", "1h0m0s"}, {"note", "<b>x</b>"}}
	})
	r := f.do("GET", "/", "")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("status page: %d %s", r.status, r.header.Get("Content-Type"))
	}
	for _, want := range []string{"ses 1.2.3", "max lease", "&lt;b&gt;x&lt;/b&gt;", `var FEED = "/status.json"`, "textContent", "<select id=\"fapp\""} {
		if !strings.Contains(r.raw, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	// No external assets: no src=, no <link>, no url(...), no @import, and
	// the policy allows nothing but the page itself.
	for _, re := range []string{`(?i)\ssrc\s*=`, `(?i)<link`, `(?i)url\(`, `(?i)@import`, `(?i)https?://`} {
		if m := regexp.MustCompile(re).FindString(r.raw); m != "" {
			t.Errorf("status page has %q: it must work offline, alone", m)
		}
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
}

// TestStatusFeed: the sums per application, each decision with its reason
// and the verifier's explanation, lease changes with the time held, and
// only what is new after a record number.
func TestStatusFeed(t *testing.T) {
	f := newFixture(t)
	tok := f.token(nil)
	f.do("POST", "/softwareEntitlements"+v6, body(tok, "contosoapp"))
	f.do("POST", "/softwareEntitlements"+v6, body(tok, "otherapp"))
	id := f.acquire(tok, "PT5M")
	f.clock.Add(3 * time.Second)
	f.do("POST", "/softwareEntitlements/"+id+leaseV, `{"duration":"PT10M"}`)
	f.clock.Add(2 * time.Second)
	f.do("DELETE", "/softwareEntitlements/"+id+leaseV, "")
	f.do("POST", "/softwareEntitlements", body(tok, "contosoapp")) // no api-version

	feed := feedOf(t, f.do("GET", "/status.json", ""))
	if !feed.Details {
		t.Error("details hidden without --acs")
	}
	want := AppUsage{App: "contosoapp", Approved: 2, Leases: 1, Released: 1, HeldSeconds: 5}
	if got := appOf(feed, "contosoapp"); got != want {
		t.Errorf("contosoapp: %+v, want %+v", got, want)
	}
	if got := appOf(feed, "otherapp"); got.Denied != 1 || got.Approved != 0 {
		t.Errorf("otherapp: %+v", got)
	}
	if got := appOf(feed, ""); got.Denied != 1 { // refused before its body was read
		t.Errorf("no application: %+v", got)
	}
	if feed.Totals.Approved != 2 || feed.Totals.Denied != 2 || feed.Totals.Leases != 1 {
		t.Errorf("totals %+v", feed.Totals)
	}
	var events []string
	var denial UsageRecord
	for _, r := range feed.Records { // newest first
		events = append(events, string(r.Event)+":"+string(r.Outcome))
		if r.App == "otherapp" {
			denial = r
		}
	}
	// A lease changes while its request is handled, before the decision.
	wantEvents := "entitlement:denied release:approved released: renew:approved renewed: acquire:approved acquired: entitlement:denied entitlement:approved"
	if strings.Join(events, " ") != wantEvents {
		t.Errorf("records %s\nwant    %s", strings.Join(events, " "), wantEvents)
	}
	if denial.Reason != string(tool.ReasonApplication) || denial.Status != 403 || denial.Peer.String() != "127.0.0.1" ||
		denial.APIVersion != "2017-09-01.6.0" || denial.Explanation != `token entitles ["contosoapp"], not "otherapp"` {
		t.Errorf("the denial: %+v", denial)
	}
	if r := feed.Records[0]; r.Explanation != "Missing api-version query parameter; denying entitlement request." || r.Reason != "api-version-missing" {
		t.Errorf("the 400: %+v", r)
	}
	if r := feed.Records[1]; r.Lease != (Lease{ID: id}).Fingerprint() || r.Status != 204 {
		t.Errorf("the release: %+v", r)
	}
	if r := feed.Records[2]; r.Lease != (Lease{ID: id}).Fingerprint() || r.HeldSeconds != 5 || r.Peer.String() != "127.0.0.1" {
		t.Errorf("the lease's end: %+v", r)
	}

	newer := feedOf(t, f.do("GET", "/status.json?after="+itoa(feed.Seq), ""))
	if len(newer.Records) != 0 || newer.Seq != feed.Seq {
		t.Errorf("after %d: %d records, seq %d", feed.Seq, len(newer.Records), newer.Seq)
	}
	f.do("POST", "/softwareEntitlements"+v6, body(tok, "contosoapp"))
	newer = feedOf(t, f.do("GET", "/status.json?after="+itoa(feed.Seq), ""))
	if len(newer.Records) != 1 || newer.Records[0].Seq != feed.Seq+1 || newer.Records[0].Outcome != tool.DecisionApproved {
		t.Errorf("after %d: %+v", feed.Seq, newer.Records)
	}
	if r := f.do("GET", "/status.json?after=x", ""); r.status != 400 || r.code() != string(tool.CodeBadRequest) {
		t.Errorf("after=x: %d %s", r.status, r.raw)
	}
	for i := 0; i+40 <= len(tok); i += 40 {
		if strings.Contains(f.do("GET", "/status.json", "").raw, tok[i:i+40]) {
			t.Fatal("the status feed shows token contents")
		}
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// TestNoLeaseIDUnauthenticated: the status page, its feed, the usage
// record and the log name leases by fingerprint, never by id, the request
// paths of renewals and releases included.
func TestNoLeaseIDUnauthenticated(t *testing.T) {
	var log syncBuffer
	f := newFixture(t, func(c *HandlerConfig) { c.Log = zerolog.New(&log) })
	tok := f.token(nil)
	id := f.acquire(tok, "PT5M")
	f.do("POST", "/softwareEntitlements/"+id+leaseV, `{"duration":"PT10M"}`)
	f.do("POST", "/softwareEntitlements/"+strings.ToUpper(id)+"/"+leaseV, `{"duration":"PT10M"}`)
	f.do("DELETE", "/softwareEntitlements/"+id+leaseV, "")
	fp := (Lease{ID: id}).Fingerprint()
	for name, text := range map[string]string{
		"status page": f.do("GET", "/", "").raw,
		"feed":        f.do("GET", "/status.json", "").raw,
		"usage json":  f.do("GET", "/usage", "").raw,
		"usage csv":   f.do("GET", "/usage?format=csv", "").raw,
		"log":         log.String(),
	} {
		if strings.Contains(strings.ToLower(text), id) {
			t.Errorf("the %s shows the lease id:\n%s", name, text)
		}
		if name != "status page" && !strings.Contains(text, fp) {
			t.Errorf("the %s lacks the fingerprint %s:\n%s", name, fp, text)
		}
	}
	if !strings.Contains(log.String(), `"path":"/softwareEntitlements/{`+fp+`}"`) {
		t.Errorf("the log's path is not the fingerprint's:\n%s", log.String())
	}
}

// TestStatusNeedsAdminTokenWithACS: with --acs, the feed shows only counts
// without the admin token, refuses a bad one, and shows everything with a
// good one; the usage record needs it.
func TestStatusNeedsAdminTokenWithACS(t *testing.T) {
	f := newFixture(t, func(c *HandlerConfig) { c.Auth = newFakeAuth(); c.AdminAudience = "https://127.0.0.1:4443/admin" })
	tok := f.token(nil)
	f.do("POST", "/softwareEntitlements"+v6, body(tok, "otherapp"))
	f.acquire(tok, "PT5M")

	counts := feedOf(t, f.do("GET", "/status.json", ""))
	if counts.Details || counts.Records != nil || counts.Apps != nil || counts.Totals.Denied != 1 || counts.Totals.Active != 1 {
		t.Errorf("without a token: %+v", counts)
	}
	if r := f.do("GET", "/status.json", "", withToken("bad")); r.status != 401 || r.header.Get("WWW-Authenticate") != "WRAP" {
		t.Errorf("a bad token: %d %s", r.status, r.raw)
	}
	full := feedOf(t, f.do("GET", "/status.json", "", withToken("good")))
	if !full.Details || len(full.Records) != 3 || appOf(full, "otherapp").Denied != 1 {
		t.Errorf("with the token: %+v", full)
	}
	if r := f.do("GET", "/", ""); r.status != 200 || !strings.Contains(r.raw, `id="token"`) {
		t.Errorf("the page has no place for the token: %d", r.status)
	}
	for _, mod := range [][]func(*http.Request){nil, {withToken("bad")}} {
		if r := f.do("GET", "/usage", "", mod...); r.status != 401 || strings.Contains(r.raw, "otherapp") {
			t.Errorf("GET /usage without the token: %d %s", r.status, r.raw)
		}
	}
	if r := f.do("GET", "/usage?format=csv", "", withToken("good")); r.status != 200 || !strings.Contains(r.raw, "otherapp") {
		t.Errorf("GET /usage with the token: %d %s", r.status, r.raw)
	}
}

// TestStatusNeverTakesTheLeaseLock: the page and its feed answer while
// the lease table is locked.
func TestStatusNeverTakesTheLeaseLock(t *testing.T) {
	leases := NewLeases()
	h := NewHandler(HandlerConfig{Verifier: &tool.Verifier{}, MaxLease: time.Hour, Leases: leases, Log: zerolog.Nop()})
	now := time.Now()
	leases.Acquire(leaseToken(now.Add(2*time.Hour), "10.0.0.1"), "contosoapp", netip.MustParseAddr("10.0.0.1"), now.Add(time.Hour), now, DefaultMaxLeasesPerToken)
	leases.mu.Lock()
	defer leases.mu.Unlock()
	done := make(chan string, 2)
	for _, path := range []string{"/", "/status.json"} {
		go func() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
			done <- path + " " + w.Body.String()
		}()
	}
	for range 2 {
		select {
		case got := <-done:
			if strings.HasPrefix(got, "/status.json") && !strings.Contains(got, `"active":1`) {
				t.Errorf("feed: %s", got)
			}
		case <-time.After(time.Minute):
			t.Fatal("the status page waits for the lease table's lock")
		}
	}
}

// BenchmarkStatus answers the status page and its feed beside an empty
// lease table and one holding a million active leases, each with a full
// ring of records (so each feed carries its 200 newest); neither reads the
// leases, so the two should cost the same:
//
//	go test ./server -run XXX -bench Status
func BenchmarkStatus(b *testing.B) {
	for _, n := range []int{0, 1_000_000} {
		leases := NewLeases()
		h := NewHandler(HandlerConfig{Verifier: &tool.Verifier{}, MaxLease: time.Hour, Leases: leases,
			Log: zerolog.New(&bytes.Buffer{}).Level(zerolog.WarnLevel), Version: "ses bench"})
		now := time.Now()
		remote := netip.MustParseAddr("10.0.0.1")
		apps := []string{"contosoapp", "fabrikam", "northwind", "adventureworks"}
		var tok *tool.Token
		for i := range n {
			if i%DefaultMaxLeasesPerToken == 0 {
				tok = leaseToken(now.Add(2*time.Hour), "10.0.0.1")
			}
			leases.Acquire(tok, apps[i%len(apps)], remote, now.Add(time.Hour), now, DefaultMaxLeasesPerToken)
		}
		for i := 0; n == 0 && i < DefaultUsageRecords; i++ {
			h.cfg.Usage.add(UsageRecord{Time: now, Event: UsageAcquired, App: apps[i%len(apps)], Peer: remote,
				Lease: (Lease{ID: strconv.Itoa(i)}).Fingerprint(), Expiry: now.Add(time.Hour)})
		}
		name := "EmptyStore"
		if n > 0 {
			name = "MillionLeases"
		}
		for _, path := range []string{"/", "/status.json"} {
			b.Run(name+"/"+strings.TrimPrefix(path, "/"), func(b *testing.B) {
				for b.Loop() {
					w := httptest.NewRecorder()
					h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
					if w.Code != 200 {
						b.Fatalf("%s: %d", path, w.Code)
					}
				}
			})
		}
		if got := h.cfg.Usage.active()["contosoapp"].active; got != (n+3)/4 {
			b.Fatalf("%d active leases of contosoapp, want %d", got, (n+3)/4)
		}
	}
}

// TestNoLeaseIDInErrorLog: a lease file's error names the lease; the log
// line shows its fingerprint.
func TestNoLeaseIDInErrorLog(t *testing.T) {
	leases, err := OpenLeases(t.TempDir() + "/leases.db")
	if err != nil {
		t.Fatal(err)
	}
	var log syncBuffer
	f := newFixture(t, func(c *HandlerConfig) { c.Leases = leases; c.Log = zerolog.New(&log) })
	id := f.acquire(f.token(nil), "PT5M")
	leases.Close() // every write fails from now on
	if r := f.do("POST", "/softwareEntitlements/"+id+leaseV, `{"duration":"PT10M"}`); r.status != 500 {
		t.Fatalf("renewal with a failing lease file: %d %s", r.status, r.raw)
	}
	if strings.Contains(log.String(), id) || !strings.Contains(log.String(), `"detail":"writing lease {`+(Lease{ID: id}).Fingerprint()+`}`) {
		t.Errorf("the log:\n%s", log.String())
	}
}

// BenchmarkUsageRecord is what the usage record adds to a request after
// its answer: the log line and the record of an approved entitlement
// request, beside the same log line alone (for a request the record does
// not keep) in the same run:
//
//	go test ./server -run XXX -bench UsageRecord -benchmem
func BenchmarkUsageRecord(b *testing.B) {
	h := benchHandler(b, nil)
	for _, c := range []struct {
		name     string
		entitled bool
	}{{"LogLine", false}, {"LogLineAndRecord", true}} {
		b.Run(c.name, func(b *testing.B) {
			r := httptest.NewRequest("POST", "/softwareEntitlements"+v6, nil)
			r.RemoteAddr = "127.0.0.1:40000"
			out := outcome{apiVersion: "2017-09-01.6.0", app: "contosoapp", decision: tool.DecisionApproved, entitled: c.entitled}
			b.ReportAllocs()
			for b.Loop() {
				h.logRequest(r, http.StatusOK, &out, time.Millisecond)
			}
			if recorded := h.cfg.Usage.seq > 0; recorded != c.entitled {
				b.Fatalf("recorded %v, want %v", recorded, c.entitled)
			}
		})
	}
}

// TestFeedJSONFollowsRing: the feed writes each record's JSON once and
// reuses it, never for a record that has since taken its place in the
// ring.
func TestFeedJSONFollowsRing(t *testing.T) {
	u := NewUsage(3, time.Now())
	f := newFixture(t, func(c *HandlerConfig) { c.Usage = u })
	add := func(apps ...string) {
		for _, app := range apps {
			u.add(UsageRecord{Time: f.clock.Now(), Event: UsageEntitlement, App: app, Outcome: tool.DecisionApproved})
		}
	}
	apps := func(feed statusFeed) string {
		var out []string
		for _, r := range feed.Records {
			out = append(out, fmt.Sprintf("%d:%s", r.Seq, r.App))
		}
		return strings.Join(out, " ")
	}
	add("a", "b", "c")
	for _, step := range []struct {
		add  []string
		want string
	}{
		{nil, "3:c 2:b 1:a"},
		{nil, "3:c 2:b 1:a"}, // from the JSON kept
		{[]string{"d", "e"}, "5:e 4:d 3:c"},
		{[]string{"f", "g", "h", "i"}, "9:i 8:h 7:g"},
		{nil, "9:i 8:h 7:g"},
	} {
		add(step.add...)
		if got := apps(feedOf(t, f.do("GET", "/status.json", ""))); got != step.want {
			t.Errorf("after adding %v: %s, want %s", step.add, got, step.want)
		}
	}
	for i, j := range u.ringJSON {
		if want := appendUsageRecord(nil, &u.ring[i]); string(j) != string(want) {
			t.Errorf("slot %d keeps %s for %s", i, j, want)
		}
	}
}
