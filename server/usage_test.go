package server

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/tool"
	bolt "go.etcd.io/bbolt"
)

var remote = netip.MustParseAddr("10.0.0.1")

// events lists the records' events, oldest first.
func events(u *Usage) string {
	var out []string
	u.each(func(r UsageRecord) error {
		out = append(out, string(r.Event))
		return nil
	})
	return strings.Join(out, " ")
}

// TestLeaseChanges: an observer hears each change once, in order; an
// expiry when it comes, a release of an expired lease not at all; the sums
// follow.
func TestLeaseChanges(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	l, u := NewLeases(), NewUsage(100, now)
	l.Observe(u, now)
	a, _ := l.Acquire(leaseToken(now.Add(2*time.Hour), "10.0.0.1"), "contosoapp", remote, now.Add(time.Minute), now, DefaultMaxLeasesPerToken)
	b, _ := l.Acquire(leaseToken(now.Add(2*time.Hour), "10.0.0.1"), "contosoapp", remote, now.Add(time.Minute), now, DefaultMaxLeasesPerToken)
	l.Renew(a.ID, remote, 5*time.Minute, now.Add(30*time.Second))
	l.Release(a.ID, remote, now.Add(40*time.Second))
	l.Release(a.ID, remote, now.Add(41*time.Second)) // again: nothing changes
	apps, total, _ := u.sums(t, now.Add(50*time.Second), 0)
	if total.Active != 1 || apps[0].Released != 1 || apps[0].HeldSeconds != 40+50 {
		t.Errorf("after a release: %+v %+v", total, apps)
	}
	l.Expire(now.Add(2 * time.Minute))
	l.Expire(now.Add(3 * time.Minute))
	l.Release(b.ID, remote, now.Add(4*time.Minute)) // expired already
	if got, want := events(u), "acquired acquired renewed released expired"; got != want {
		t.Errorf("records %q, want %q", got, want)
	}
	var expired UsageRecord
	u.each(func(r UsageRecord) error {
		if r.Event == UsageExpired {
			expired = r
		}
		return nil
	})
	if !expired.Time.Equal(b.Expiry) || expired.HeldSeconds != 60 || expired.Lease != (Lease{ID: b.ID}).Fingerprint() || expired.Peer != remote {
		t.Errorf("the expiry: %+v", expired)
	}
	apps, total, _ = u.sums(t, now.Add(time.Hour), 0)
	want := AppUsage{App: "contosoapp", Leases: 2, Released: 1, Expired: 1, HeldSeconds: 100}
	if len(apps) != 1 || apps[0] != want || total.Active != 0 {
		t.Errorf("at the end: %+v, want %+v", apps, want)
	}
}

// TestUsageRingBounded: memory keeps the newest records; the sums count
// them all.
func TestUsageRingBounded(t *testing.T) {
	now := time.Now()
	u := NewUsage(3, now)
	for i := range 5 {
		u.add(UsageRecord{Time: now, Event: UsageEntitlement, App: fmt.Sprint("app", i), Outcome: tool.DecisionApproved})
	}
	recs := u.recent(0, 10, UsageRecord.isDecision)
	if len(recs) != 3 || recs[0].Seq != 5 || recs[2].Seq != 3 {
		t.Errorf("ring: %+v", recs)
	}
	if recs := u.recent(4, 10, UsageRecord.isDecision); len(recs) != 1 || recs[0].Seq != 5 {
		t.Errorf("after 4: %+v", recs)
	}
	if _, total, _ := u.sums(t, now, 0); total.Approved != 5 {
		t.Errorf("sums: %+v", total)
	}
}

// TestUsageBounds: what a request brings is clipped, and past
// maxTallyApps applications the rest are summed together.
func TestUsageBounds(t *testing.T) {
	now := time.Now()
	u := NewUsage(10, now)
	for i := range maxTallyApps + 5 {
		u.add(UsageRecord{Time: now, Event: UsageEntitlement, App: fmt.Sprint("app", i), Outcome: tool.DecisionDenied})
	}
	u.add(UsageRecord{Time: now, Event: UsageEntitlement, App: strings.Repeat("é", 10_000), Explanation: strings.Repeat("x", 100_000)})
	apps, total, recs := u.sums(t, now, 1)
	if len(apps) != maxTallyApps+1 || apps[len(apps)-1].App != OtherApps || apps[len(apps)-1].Denied != 5 || total.Denied != maxTallyApps+5 {
		t.Errorf("%d applications summed, the last %+v", len(apps), apps[len(apps)-1])
	}
	if r := recs[0]; len(r.App) > maxRecordText || len(r.Explanation) > maxRecordExplanation || !strings.HasSuffix(r.App, "é…") {
		t.Errorf("kept %d bytes of the application, %d of the explanation", len(r.App), len(r.Explanation))
	}
}

// openState opens a --state file for a test, closed at its end.
func openState(t *testing.T, path string, now time.Time) (*Leases, *Usage) {
	t.Helper()
	l, u, err := OpenState(path, 100, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	l.Observe(u, now)
	return l, u
}

// TestUsageFileSurvivesRestart: with --state the records are in the file,
// numbered on after a restart; an expiry is recorded once, whether it came
// while a server ran or while none did.
func TestUsageFileSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	now := time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC) // not on a millisecond: the file keeps them
	l, u := openState(t, path, now)
	a, _ := l.Acquire(leaseToken(now.Add(2*time.Hour), "10.0.0.1"), "contosoapp", remote, now.Add(time.Second), now, DefaultMaxLeasesPerToken)
	l.Acquire(leaseToken(now.Add(2*time.Hour), "10.0.0.1"), "contosoapp", remote, now.Add(time.Minute), now, DefaultMaxLeasesPerToken)
	l.Expire(now.Add(2 * time.Second)) // a expires while the server runs
	u.add(UsageRecord{Time: now, Event: UsageEntitlement, App: "contosoapp", Outcome: tool.DecisionDenied})
	if err := u.Flush(); err != nil {
		t.Fatal(err)
	}
	l.Close()

	// The second lease expires while no server runs.
	later := now.Add(10 * time.Minute)
	l, u = openState(t, path, later)
	if got, want := events(u), "acquired acquired expired entitlement expired"; got != want {
		t.Errorf("after a restart: %q, want %q", got, want)
	}
	u.add(UsageRecord{Time: later, Event: UsageEntitlement, App: "contosoapp", Outcome: tool.DecisionApproved})
	u.Flush()
	l.Close()

	l, u = openState(t, path, later.Add(time.Minute))
	defer l.Close()
	if got, want := events(u), "acquired acquired expired entitlement expired entitlement"; got != want {
		t.Errorf("after a second restart: %q, want %q", got, want)
	}
	apps, _, recs := u.sums(t, later, 100)
	if recs[0].Seq != 6 || len(apps) != 1 || apps[0].Expired != 2 || apps[0].Denied != 1 || apps[0].Approved != 1 || apps[0].HeldSeconds != 61 {
		t.Errorf("numbers and sums from the file: seq %d, %+v", recs[0].Seq, apps)
	}
	if recs[len(recs)-1].Lease != (Lease{ID: a.ID}).Fingerprint() {
		t.Errorf("the first record: %+v", recs[len(recs)-1])
	}
}

// TestUsageFileKeep: the file keeps the newest --usage-keep records.
func TestUsageFileKeep(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	now := time.Now()
	l, u, err := OpenState(path, 100, 3, now)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		u.add(UsageRecord{Time: now, Event: UsageEntitlement, App: fmt.Sprint("app", i)})
		if err := u.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	rep, err := ReadUsageState(path, UsageFilter{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Records) != 3 || rep.Records[0].App != "app2" {
		t.Errorf("kept %+v", rep.Records)
	}
}

// TestReadUsageState: a file no server holds reads as the server answered,
// filtered; one a server holds is refused.
func TestReadUsageState(t *testing.T) {
	t.Parallel() // it waits for the lock another holds: beside the others
	path := filepath.Join(t.TempDir(), "state.db")
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	l, u := openState(t, path, now)
	x, _ := l.Acquire(leaseToken(now.Add(2*time.Hour), "10.0.0.1"), "contosoapp", remote, now.Add(time.Hour), now, DefaultMaxLeasesPerToken)
	l.Acquire(leaseToken(now.Add(2*time.Hour), "10.0.0.1"), "otherapp", remote, now.Add(time.Hour), now, DefaultMaxLeasesPerToken)
	l.Release(x.ID, remote, now.Add(3*time.Second))
	u.add(UsageRecord{Time: now.Add(4 * time.Second), Event: UsageEntitlement, App: "contosoapp", Outcome: tool.DecisionApproved})
	u.Flush()
	if _, err := ReadUsageState(path, UsageFilter{}, now); !errors.As(err, new(*LockedError)) {
		t.Errorf("reading a file a server holds: %v, want a LockedError", err)
	}
	l.Close()

	rep, err := ReadUsageState(path, UsageFilter{}, now.Add(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Records) != 4 || len(rep.Summary) != 2 {
		t.Fatalf("read %+v", rep)
	}
	want := AppUsage{App: "contosoapp", Approved: 1, Leases: 1, Released: 1, HeldSeconds: 3}
	if rep.Summary[0] != want || rep.Summary[1].Active != 1 || rep.Summary[1].HeldSeconds != 10 {
		t.Errorf("summary %+v, want %+v first", rep.Summary, want)
	}
	rep, _ = ReadUsageState(path, UsageFilter{App: "contosoapp", From: now.Add(time.Second), To: now.Add(4 * time.Second)}, now)
	if len(rep.Records) != 1 || rep.Records[0].Event != UsageReleased || len(rep.Summary) != 1 {
		t.Errorf("filtered: %+v", rep)
	}
	// An hour and a half later, with no server: the lease of otherapp
	// has expired, as the next server will record.
	rep, _ = ReadUsageState(path, UsageFilter{App: "otherapp"}, now.Add(90*time.Minute))
	if n := len(rep.Records); n != 2 || rep.Records[1].Event != UsageExpired || rep.Records[1].Seq != 0 || rep.Totals.Active != 0 || rep.Totals.HeldSeconds != 3600 {
		t.Errorf("after its expiry: %+v", rep)
	}
	if _, err := ReadUsageState(filepath.Join(t.TempDir(), "missing.db"), UsageFilter{}, now); err == nil || errors.As(err, new(*DamagedError)) {
		t.Errorf("a missing file: %v", err)
	}
}

// TestDamagedState: bbolt panics or fails on many kinds of damage; each is
// a DamagedError, at open and for ses usage, never a panic.
func TestDamagedState(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	now := time.Now()
	l, u := openState(t, good, now)
	for range 2000 {
		l.Acquire(leaseToken(now.Add(2*time.Hour), "10.0.0.1"), "contosoapp", remote, now.Add(time.Hour), now, DefaultMaxLeasesPerToken)
	}
	u.Flush()
	l.Close()
	orig, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	damage := map[string]func([]byte) []byte{
		"truncated to 8 KiB":       func(b []byte) []byte { return b[:8<<10] },
		"truncated to 100 bytes":   func(b []byte) []byte { return b[:100] },
		"truncated to 5000 bytes":  func(b []byte) []byte { return b[:5000] },
		"meta pages zeroed":        func(b []byte) []byte { clear(b[:2*page]); return b },
		"a data page overwritten":  func(b []byte) []byte { fill(b[4*page:5*page], 0xab); return b },
		"every page body garbled":  func(b []byte) []byte { garble(b, page); return b },
		"text, not a database":     func([]byte) []byte { return []byte("this is not a database, only some text.\n") },
		"data past the meta noise": func(b []byte) []byte { fill(b[2*page:], 0x5a); return b },
	}
	for name, damage := range damage {
		// Two copies: bbolt may panic with the file open and locked, which
		// a server then exits with.
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".db")
		data := damage(append([]byte(nil), orig...))
		for _, p := range []string{path, path + ".copy"} {
			if err := os.WriteFile(p, data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("%s: panic %v", name, p)
				}
			}()
			_, _, err := OpenState(path, 10, 0, now)
			var d *DamagedError
			if !errors.As(err, &d) || d.Path != path {
				t.Errorf("%s: OpenState: %v, want a DamagedError", name, err)
			}
			if _, err := ReadUsageState(path+".copy", UsageFilter{}, now); !errors.As(err, &d) {
				t.Errorf("%s: ReadUsageState: %v, want a DamagedError", name, err)
			}
		}()
	}
}

func fill(b []byte, c byte) {
	for i := range b {
		b[i] = c
	}
}

func garble(b []byte, page int) {
	for p := 3 * page; p+200 < len(b); p += page {
		fill(b[p+16:p+200], 0xff)
	}
}

// TestStateFilePrivate: --state is created 0600, and a symbolic link at
// its path is refused, its target untouched.
func TestStateFilePrivate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.db")
	l, _ := openState(t, path, time.Now())
	l.Close()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("--state created %v %v, want -rw-------", fi.Mode().Perm(), err)
	}
	for _, target := range []string{path, filepath.Join(dir, "new.db")} {
		link := filepath.Join(dir, "link-to-"+filepath.Base(target))
		if err := os.Symlink(target, link); err != nil {
			t.Skip("no symbolic links here:", err)
		}
		if _, _, err := OpenState(link, 10, 0, time.Now()); !errors.As(err, new(*cli.SymlinkError)) {
			t.Errorf("--state %s: %v, want a SymlinkError", link, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "new.db")); err == nil {
		t.Error("the dangling link's target was created")
	}
}

// TestUsageExport: GET /usage as JSON (the default) and CSV (?format= or
// Accept), filtered; the JSON decodes and encodes to the same bytes, the
// CSV parses with one column per header field.
func TestUsageExport(t *testing.T) {
	f := newFixture(t)
	tok := f.token(nil)
	f.do("POST", "/softwareEntitlements"+v6, body(tok, "contosoapp"))
	f.clock.Add(time.Minute)
	id := f.acquire(tok, "PT5M")
	f.clock.Add(3 * time.Second)
	f.do("DELETE", "/softwareEntitlements/"+id+leaseV, "")
	f.do("POST", "/softwareEntitlements"+v6, body(tok, "otherapp"))

	js := f.do("GET", "/usage", "")
	if js.status != 200 || !strings.HasPrefix(js.header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /usage: %d %s", js.status, js.header.Get("Content-Type"))
	}
	rep, err := DecodeUsage(strings.NewReader(js.raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Records) != 6 || rep.Records[0].Seq != 1 || rep.Totals.Approved != 2 || rep.Totals.Denied != 1 || rep.Totals.HeldSeconds != 3 {
		t.Errorf("report %+v", rep)
	}
	var again bytes.Buffer
	if err := EncodeUsage(&again, tool.FormatJSON, rep); err != nil || again.String() != js.raw {
		t.Errorf("JSON re-encoded differs: %v\n%s\n%s", err, again.String(), js.raw)
	}

	for _, mod := range [][]func(*http.Request){nil, {func(r *http.Request) { r.Header.Set("Accept", "text/csv;q=0.9, */*") }}} {
		path := "/usage"
		if mod == nil {
			path += "?format=CSV"
		}
		r := f.do("GET", path, "", mod...)
		if !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
			t.Fatalf("GET %s: %s", path, r.header.Get("Content-Type"))
		}
		rows, err := csv.NewReader(strings.NewReader(r.raw)).ReadAll()
		if err != nil || len(rows) != 7 || strings.Join(rows[0], ",") != strings.Join(UsageCSVHeader, ",") {
			t.Fatalf("CSV: %v %q", err, rows)
		}
		if got := strings.Join(rows[4], ","); !strings.Contains(got, ",released,contosoapp,127.0.0.1,,,,,"+(Lease{ID: id}).Fingerprint()+",") || !strings.HasSuffix(got, ",3.000,") {
			t.Errorf("the release row: %s", got)
		}
		var b bytes.Buffer
		EncodeUsage(&b, tool.FormatCSV, rep)
		if b.String() != r.raw {
			t.Errorf("EncodeUsage's CSV differs from the server's:\n%s\n%s", b.String(), r.raw)
		}
	}

	from := f.start.Add(30 * time.Second).Format(time.RFC3339)
	to := f.start.Add(63 * time.Second).Format(time.RFC3339)
	r := f.do("GET", "/usage?app=contosoapp&from="+from+"&to="+to, "")
	rep, _ = DecodeUsage(strings.NewReader(r.raw))
	if len(rep.Records) != 2 || rep.Records[0].Event != UsageAcquired || len(rep.Summary) != 1 || rep.Totals.Leases != 1 {
		t.Errorf("from %s to %s: %+v", from, to, rep)
	}
	for _, q := range []string{"format=xml", "from=yesterday", "to=2026-11-22"} {
		if r := f.do("GET", "/usage?"+q, ""); r.status != 400 || r.code() != string(tool.CodeBadRequest) {
			t.Errorf("GET /usage?%s: %d %s", q, r.status, r.raw)
		}
	}
}

func FuzzDecodeUsage(f *testing.F) {
	f.Add(`{"records":[{"time":"2026-11-22T10:00:00Z","seq":1,"event":"acquired","app":"a","heldSeconds":1.5}],"summary":[],"totals":{"app":""}}`)
	f.Add(`{"records":null}`)
	f.Add(`{"records":[{"event":"nope"}]}`)
	f.Add(`{} {}`)
	f.Fuzz(func(t *testing.T, s string) {
		rep, err := DecodeUsage(strings.NewReader(s))
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := EncodeUsage(&b, tool.FormatJSON, rep); err != nil {
			t.Fatalf("a report that decoded does not encode: %v", err)
		}
		again, err := DecodeUsage(&b)
		if err != nil || len(again.Records) != len(rep.Records) {
			t.Fatalf("re-decoding %q: %v", b.String(), err)
		}
		if err := EncodeUsage(&b, tool.FormatCSV, rep); err != nil {
			t.Fatalf("CSV: %v", err)
		}
	})
}

func FuzzDecodeUsageRecord(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1}, []byte(`{"time":"2026-11-22T10:00:00Z","seq":1,"event":"entitlement","app":"a"}`))
	f.Add([]byte{1}, []byte(`{}`))
	f.Fuzz(func(t *testing.T, k, v []byte) {
		r, err := decodeUsageRecord(k, v)
		if err == nil && (len(k) != 8 || r.validate() != nil) {
			t.Fatalf("%x %q decoded as %+v", k, v, r)
		}
	})
}

// queuedOps waits (a minute at most) until the lease file's next commit
// holds an op, and returns the events of the records each op carries.
func queuedOps(t *testing.T, l *Leases) [][]UsageEvent {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		l.file.mu.Lock()
		ops := l.file.queue.ops
		var events [][]UsageEvent
		for _, op := range ops {
			var e []UsageEvent
			for _, q := range op.usage {
				e = append(e, q.Event)
			}
			events = append(events, e)
		}
		l.file.mu.Unlock()
		if len(ops) > 0 {
			return events
		}
	}
	t.Fatal("nothing was queued for the lease file")
	return nil
}

// TestRecordsCommitWithTheirChange: with --state, the records of a lease
// change (the change, and the decision on the request that made it) ride
// the change into its transaction, a decision alone has one op of its
// own, and no answer leaves before its records are committed.
func TestRecordsCommitWithTheirChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	leases, usage, err := OpenState(path, 100, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(c *HandlerConfig) { c.Leases, c.Usage = leases, usage })
	tok := f.token(nil)
	var id string
	steps := []struct {
		name         string
		method, path func() string
		body         string
		status       int
		want         []UsageEvent
	}{
		{"entitlement", func() string { return "POST" }, func() string { return "/softwareEntitlements" + v6 }, body(tok, "contosoapp"), 200,
			[]UsageEvent{UsageEntitlement}},
		{"acquire", func() string { return "POST" }, func() string { return "/softwareEntitlements" + leaseV }, leaseBody(tok, "contosoapp", "PT5M"), 200,
			[]UsageEvent{UsageAcquired, UsageAcquire}},
		{"renew", func() string { return "POST" }, func() string { return "/softwareEntitlements/" + id + leaseV }, `{"duration":"PT10M"}`, 200,
			[]UsageEvent{UsageRenewed, UsageRenew}},
		{"release", func() string { return "DELETE" }, func() string { return "/softwareEntitlements/" + id + leaseV }, "", 204,
			[]UsageEvent{UsageReleased, UsageRelease}},
	}
	for _, s := range steps {
		// The committer is held in a transaction while the request comes.
		entered, gate := make(chan struct{}), make(chan struct{})
		go leases.Commit(func(*bolt.Tx) error { close(entered); <-gate; return nil })
		<-entered
		answered := make(chan response, 1)
		go func() { answered <- f.do(s.method(), s.path(), s.body) }()
		got := queuedOps(t, leases)
		if len(got) != 1 || !slices.Equal(got[0], s.want) {
			t.Errorf("%s: the next commit holds ops carrying %v, want one carrying %v", s.name, got, s.want)
		}
		select {
		case r := <-answered:
			t.Fatalf("%s: answered %d before its records were committed", s.name, r.status)
		case <-time.After(50 * time.Millisecond):
		}
		close(gate)
		r := <-answered
		if r.status != s.status {
			t.Fatalf("%s: %d %s", s.name, r.status, r.raw)
		}
		if s.name == "acquire" {
			id = r.str("entitlementId")
		}
	}
	if err := leases.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err := ReadUsageState(path, UsageFilter{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rep.Records {
		got = append(got, string(r.Event))
	}
	if want := "entitlement acquired acquire renewed renew released release"; strings.Join(got, " ") != want {
		t.Errorf("the file holds %q, want %q", strings.Join(got, " "), want)
	}
}

// TestUnwrittenChangeRecorded: a change the lease file cannot take is
// answered 500 and recorded so: an acquisition, undone, leaves no record
// of it, a renewal (made in memory) its change; the decision is the
// failure's.
func TestUnwrittenChangeRecorded(t *testing.T) {
	leases, usage, err := OpenState(filepath.Join(t.TempDir(), "state.db"), 100, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(c *HandlerConfig) { c.Leases, c.Usage = leases, usage })
	tok := f.token(nil)
	id := f.acquire(tok, "PT5M")
	leases.Close() // every commit fails from now on
	if r := f.do("POST", "/softwareEntitlements"+leaseV, leaseBody(tok, "contosoapp", "PT5M")); r.status != 500 {
		t.Fatalf("acquire: %d %s", r.status, r.raw)
	}
	if r := f.do("POST", "/softwareEntitlements/"+id+leaseV, `{"duration":"PT10M"}`); r.status != 500 {
		t.Fatalf("renew: %d %s", r.status, r.raw)
	}
	var got []string
	for _, r := range usage.recent(0, 100, func(UsageRecord) bool { return true }) {
		got = append(got, fmt.Sprintf("%s:%s:%d", r.Event, r.Outcome, r.Status))
	}
	if want := "renew:error:500 renewed::0 acquire:error:500 acquire:approved:200 acquired::0"; strings.Join(got, " ") != want {
		t.Errorf("records, newest first: %s\nwant %s", strings.Join(got, " "), want)
	}
	if _, total, _ := usage.sums(t, f.clock.Now(), 0); total.Active != 1 || total.Leases != 1 || total.Errors != 1 || total.Approved != 1 {
		t.Errorf("sums: %+v", total)
	}
}

// TestUsageAsEncodingJSON checks the hand-written JSON of records, sums
// and the status feed against encoding/json on the same values.
func TestUsageAsEncodingJSON(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 123_000_000, time.UTC)
	recs := []UsageRecord{
		{},
		{Time: at, Seq: 1, Event: UsageEntitlement, App: "contosoapp", Peer: netip.MustParseAddr("127.0.0.1"), APIVersion: "2017-09-01.6.0",
			Status: 200, Outcome: tool.DecisionApproved},
		{Time: at, Seq: 2, Event: UsageEntitlement, App: `<b>"x"</b> & é` + "\u2028\x01\xff", Peer: netip.MustParseAddr("::1"), Status: 403,
			Outcome: tool.DecisionDenied, Reason: "application-not-entitled", Explanation: `token entitles ["a"], not "b"`},
		{Time: at, Seq: 3, Event: UsageExpired, App: "contosoapp", Lease: "1a2b3c4d", Expiry: at.Add(time.Hour), HeldSeconds: 3.011},
		{Time: at, Seq: 4, Event: UsageReleased, HeldSeconds: 1e21},
		{Time: at, Seq: 5, Event: UsageReleased, HeldSeconds: 1e-7},
		{Time: at, Seq: 6, Event: UsageReleased, HeldSeconds: -0.001},
	}
	for _, r := range recs {
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendUsageRecord(nil, &r); string(got) != string(want) {
			t.Errorf("record\n got %s\nwant %s", got, want)
		}
	}
	sums := []AppUsage{{}, {App: "contosoapp", Approved: 2, Denied: 1, Errors: 3, Leases: 4, Active: 5, Released: 6, Expired: 7, HeldSeconds: 61.5}}
	for _, a := range sums {
		want, _ := json.Marshal(a)
		if got := appendAppUsage(nil, &a); string(got) != string(want) {
			t.Errorf("sums\n got %s\nwant %s", got, want)
		}
	}
	for _, f := range []statusFeed{
		{Version: "ses (devel)", Now: at, Started: at.Add(-time.Hour), Seq: 6, Totals: sums[1]},
		{Version: "ses <1.0>", Now: at, Started: at, Seq: 6, Details: true, Totals: sums[1], Apps: sums, Records: recs},
	} {
		var want bytes.Buffer
		json.NewEncoder(&want).Encode(f)
		var records [][]byte
		for i := range f.Records {
			records = append(records, appendUsageRecord(nil, &f.Records[i]))
		}
		if got := appendFeed(nil, &f, records); string(got) != want.String() {
			t.Errorf("feed\n got %s\nwant %s", got, want.String())
		}
	}
}

// FuzzUsageRecordJSON checks the hand-written JSON of a record against
// encoding/json for any texts a request may bring and any time held.
func FuzzUsageRecordJSON(f *testing.F) {
	f.Add("contosoapp", "2017-09-01.6.0", "token entitles [\"a\"]", "<&>\u2028", 3.011)
	f.Add("\xff\xfe", "", "\x00", "é", 1e21)
	f.Fuzz(func(t *testing.T, app, apiVersion, explanation, reason string, held float64) {
		if math.IsNaN(held) || math.IsInf(held, 0) {
			return // encoding/json refuses them; the record never holds one
		}
		r := UsageRecord{Time: time.Unix(0, 1_764_000_000_123_000_000).UTC(), Seq: 7, Event: UsageRenew, App: app, APIVersion: apiVersion,
			Status: 409, Outcome: tool.DecisionDenied, Reason: reason, Explanation: explanation, HeldSeconds: held}
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendUsageRecord(nil, &r); string(got) != string(want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	})
}

// sums is the status feed's snapshot with its records decoded: the sums
// per application, the totals and up to limit records, newest first.
func (u *Usage) sums(t testing.TB, now time.Time, limit int) (apps []AppUsage, total AppUsage, recs []UsageRecord) {
	t.Helper()
	var f feedRecords
	_, _, apps, total = u.snapshot(now, 0, limit, true, &f)
	u.encode(&f)
	for _, j := range f.json {
		var r UsageRecord
		if err := json.Unmarshal(j, &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	return apps, total, recs
}
