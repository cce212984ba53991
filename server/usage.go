package server

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/seskit/ses/tool"
)

// UsageEvent is what a usage record records: a decision on a request to
// the entitlement endpoint, named for the request, or a change of a lease,
// named in the past tense.
type UsageEvent string

// The decisions: each has an outcome, a status and, when refused, a reason.
const (
	// UsageEntitlement is POST /softwareEntitlements with an api-version
	// that takes no lease.
	UsageEntitlement UsageEvent = "entitlement"
	// UsageAcquire is POST /softwareEntitlements with the leasing
	// api-version.
	UsageAcquire UsageEvent = "acquire"
	// UsageRenew is POST /softwareEntitlements/{id}.
	UsageRenew UsageEvent = "renew"
	// UsageRelease is DELETE /softwareEntitlements/{id}.
	UsageRelease UsageEvent = "release"
	// UsageRevoke is DELETE /admin/leases/{id}.
	UsageRevoke UsageEvent = "revoke"
)

// The changes of a lease: each has the lease's fingerprint and the time it
// was held so far.
const (
	UsageAcquired = UsageEvent(LeaseAcquired)
	UsageRenewed  = UsageEvent(LeaseRenewed)
	UsageReleased = UsageEvent(LeaseReleased)
	UsageExpired  = UsageEvent(LeaseExpired)
)

// usageEvents tells the decisions (true) from the lease changes (false).
var usageEvents = map[UsageEvent]bool{
	UsageEntitlement: true, UsageAcquire: true, UsageRenew: true, UsageRelease: true, UsageRevoke: true,
	UsageAcquired: false, UsageRenewed: false, UsageReleased: false, UsageExpired: false,
}

// IsDecision reports whether e is a decision rather than a lease change.
func (e UsageEvent) IsDecision() bool { return usageEvents[e] }

// UsageRecord is one entry of the usage record: the body of GET /usage,
// the rows of the status page and of `ses usage`. It never holds a token
// or a lease id: a lease is named by its fingerprint.
type UsageRecord struct {
	Time time.Time `json:"time"`
	// Seq numbers the records in the order they were made; 0 for an
	// expiry `ses usage` found in a lease file that no server recorded.
	Seq   uint64     `json:"seq"`
	Event UsageEvent `json:"event"`
	App   string     `json:"app"`
	// Peer is the caller's address; for a lease change, the address that
	// acquired the lease.
	Peer        string        `json:"peer,omitempty"`
	APIVersion  string        `json:"apiVersion,omitempty"`
	Status      int           `json:"status,omitempty"`
	Outcome     tool.Decision `json:"outcome,omitempty"`
	Reason      string        `json:"reason,omitempty"`
	Explanation string        `json:"explanation,omitempty"`
	Lease       string        `json:"lease,omitempty"`
	// Expiry is the lease's expiry after the change.
	Expiry time.Time `json:"expiry,omitzero"`
	// HeldSeconds is how long the lease had been held at the change.
	HeldSeconds float64 `json:"heldSeconds,omitempty"`
}

// validate refuses a record that does not say what happened.
func (r UsageRecord) validate() error {
	if _, ok := usageEvents[r.Event]; !ok {
		return fmt.Errorf("record %d: unknown event %q", r.Seq, r.Event)
	}
	if r.HeldSeconds < 0 || r.HeldSeconds != r.HeldSeconds {
		return fmt.Errorf("record %d: held %v seconds", r.Seq, r.HeldSeconds)
	}
	return nil
}

// held is HeldSeconds as a duration.
func (r UsageRecord) held() time.Duration {
	return time.Duration(r.HeldSeconds * float64(time.Second)).Round(time.Millisecond)
}

// heldSeconds writes d as seconds to the millisecond.
func heldSeconds(d time.Duration) float64 { return d.Round(time.Millisecond).Seconds() }

// The longest texts a record keeps of what a request brought: enough for a
// person, not a way to fill the server's memory.
const (
	maxRecordText        = 256
	maxRecordExplanation = 1024
)

// clip shortens s to at most n bytes, at a character boundary, marking the
// cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func (r *UsageRecord) clip() {
	r.App, r.Peer, r.APIVersion = clip(r.App, maxRecordText), clip(r.Peer, maxRecordText), clip(r.APIVersion, maxRecordText)
	r.Reason, r.Explanation = clip(r.Reason, maxRecordText), clip(r.Explanation, maxRecordExplanation)
}

// leaseFingerprint names a lease where its id must not be seen: the first
// 8 hex digits of the SHA-256 of the id as the client has it. It tells
// leases apart for a person and cannot be turned back into the id that
// renews or releases the lease.
func leaseFingerprint(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:4])
}

// AppUsage sums the usage record of one application: the decisions on its
// entitlement requests (lease acquisitions included), its leases, and the
// time they were held (those active counted until now).
type AppUsage struct {
	App         string  `json:"app"`
	Approved    int     `json:"approved"`
	Denied      int     `json:"denied"`
	Errors      int     `json:"errors"`
	Leases      int     `json:"leases"`
	Active      int     `json:"active"`
	Released    int     `json:"released"`
	Expired     int     `json:"expired"`
	HeldSeconds float64 `json:"heldSeconds"`
}

// OtherApps names the sum of the applications past maxTallyApps.
const OtherApps = "(other applications)"

// maxTallyApps bounds the applications summed one by one: application
// names come with requests, so a caller could make up any number.
const maxTallyApps = 1000

// usageTally sums records per application as they come, and the active
// leases from the lease table's changes: the time active leases have been
// held is their count times now less the sum of their acquisition times,
// so nothing is kept per lease.
type usageTally struct {
	apps  map[string]*appTally
	other *appTally
	base  time.Time
}

type appTally struct {
	approved, denied, errors, leases, released, expired int
	active                                              int
	endedHeld                                           time.Duration // by the leases that ended
	acquiredMs                                          int64         // Σ of the active leases' acquisition, ms after base
}

func newUsageTally(base time.Time) *usageTally {
	return &usageTally{apps: map[string]*appTally{}, other: &appTally{}, base: base}
}

func (t *usageTally) get(app string) *appTally {
	if a := t.apps[app]; a != nil {
		return a
	}
	if len(t.apps) >= maxTallyApps {
		return t.other
	}
	a := &appTally{}
	t.apps[app] = a
	return a
}

// record counts one record: the outcome of an entitlement request or a
// lease acquisition, or the end of a lease and the time it was held.
func (t *usageTally) record(r UsageRecord) {
	a := t.get(r.App)
	switch r.Event {
	case UsageEntitlement, UsageAcquire:
		switch r.Outcome {
		case tool.DecisionApproved:
			a.approved++
		case tool.DecisionDenied:
			a.denied++
		case tool.DecisionError:
			a.errors++
		}
	case UsageAcquired:
		a.leases++
	case UsageReleased:
		a.released++
		a.endedHeld += r.held()
	case UsageExpired:
		a.expired++
		a.endedHeld += r.held()
	}
}

// activeAdd and activeRemove follow a lease that became, or stopped being,
// active.
func (t *usageTally) activeAdd(app string, acquired time.Time) {
	a := t.get(app)
	a.active++
	a.acquiredMs += acquired.Sub(t.base).Milliseconds()
}

func (t *usageTally) activeRemove(app string, acquired time.Time) {
	a := t.get(app)
	a.active--
	a.acquiredMs -= acquired.Sub(t.base).Milliseconds()
}

func (a *appTally) usage(app string, now time.Time, base time.Time) AppUsage {
	heldMs := a.endedHeld.Milliseconds() + int64(a.active)*now.Sub(base).Milliseconds() - a.acquiredMs
	return AppUsage{App: app, Approved: a.approved, Denied: a.denied, Errors: a.errors, Leases: a.leases,
		Active: a.active, Released: a.released, Expired: a.expired, HeldSeconds: float64(heldMs) / 1000}
}

func (a *appTally) empty() bool { return *a == appTally{} }

// summary lists the applications by name, and their totals.
func (t *usageTally) summary(now time.Time) (apps []AppUsage, total AppUsage) {
	for name, a := range t.apps {
		apps = append(apps, a.usage(name, now, t.base))
	}
	slices.SortFunc(apps, func(x, y AppUsage) int { return strings.Compare(x.App, y.App) })
	if !t.other.empty() {
		apps = append(apps, t.other.usage(OtherApps, now, t.base))
	}
	for _, a := range apps {
		total.Approved += a.Approved
		total.Denied += a.Denied
		total.Errors += a.Errors
		total.Leases += a.Leases
		total.Active += a.Active
		total.Released += a.Released
		total.Expired += a.Expired
		total.HeldSeconds += a.HeldSeconds
	}
	total.HeldSeconds = float64(int64(total.HeldSeconds*1000+0.5)) / 1000
	return apps, total
}

// DefaultUsageRecords is how many records the server keeps in memory
// unless --usage-records says.
const DefaultUsageRecords = 10_000

// DefaultUsageKeep is how many records a --state file keeps unless
// --usage-keep says; the oldest give way.
const DefaultUsageKeep = 1_000_000

// Usage is the usage record: every decision on the entitlement endpoint
// and every change of a lease, the last ones in a ring in memory and, when
// opened on a lease file, all of them (up to a bound) in the same
// database. It hears of lease changes as a LeaseObserver and sums them per
// application as they come, so nothing it answers scans the leases.
type Usage struct {
	mu      sync.Mutex
	ring    []UsageRecord
	next    int
	seq     uint64
	tally   *usageTally
	started time.Time

	file    *usageFile // nil in memory
	keep    int
	pending []UsageRecord
	// expiredThrough (Unix nanoseconds): every lease that expired up to
	// then has its expiry recorded, in the file too once flushed. The
	// lease table ends leases in expiry order, so it is the last expiry
	// recorded.
	expiredThrough int64

	flushMu sync.Mutex
	durable uint64 // the records up to it are in the file
}

// NewUsage returns an in-memory usage record of at most size records,
// started at now.
func NewUsage(size int, now time.Time) *Usage {
	if size <= 0 {
		size = DefaultUsageRecords
	}
	return &Usage{ring: make([]UsageRecord, 0, size), tally: newUsageTally(now), started: now}
}

// add keeps r, numbering it, and returns its number.
func (u *Usage) add(r UsageRecord) uint64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.addLocked(r)
}

func (u *Usage) addLocked(r UsageRecord) uint64 {
	u.seq++
	r.Seq = u.seq
	r.Time = r.Time.UTC().Truncate(time.Millisecond)
	if !r.Expiry.IsZero() {
		r.Expiry = r.Expiry.UTC().Truncate(time.Millisecond)
	}
	r.clip()
	u.push(r)
	u.tally.record(r)
	if u.file != nil {
		u.pending = append(u.pending, r)
	}
	return r.Seq
}

// push puts r in the ring, over the oldest once it is full.
func (u *Usage) push(r UsageRecord) {
	if len(u.ring) < cap(u.ring) {
		u.ring = append(u.ring, r)
		return
	}
	u.ring[u.next] = r
	u.next = (u.next + 1) % cap(u.ring)
}

// LeaseChanged records a change of a lease and follows the active ones.
// The lease table calls it with its lock held: it takes only the record's
// own lock and never waits for the file.
func (u *Usage) LeaseChanged(e LeaseEvent) {
	u.mu.Lock()
	defer u.mu.Unlock()
	acquired := e.Lease.Acquired
	if acquired.IsZero() { // restored from a file that did not keep it
		acquired = u.started
	}
	app := e.Lease.Application
	switch e.Change {
	case LeaseRestored:
		u.tally.activeAdd(app, acquired)
		return
	case LeaseAcquired:
		u.tally.activeAdd(app, acquired)
	case LeaseReleased:
		u.tally.activeRemove(app, acquired)
	case LeaseExpired:
		u.tally.activeRemove(app, acquired)
		if e.At.UnixNano() <= u.expiredThrough {
			return // recorded before a restart
		}
		u.expiredThrough = e.At.UnixNano()
	}
	u.addLocked(UsageRecord{
		Time: e.At, Event: UsageEvent(e.Change), App: app, Peer: e.Lease.Remote,
		Lease: leaseFingerprint(e.Lease.ID), Expiry: e.Lease.Expiry.UTC(), HeldSeconds: heldSeconds(e.At.Sub(acquired)),
	})
}

// ActiveLeases counts the leases active now.
func (u *Usage) ActiveLeases() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := u.tally.other.active
	for _, a := range u.tally.apps {
		n += a.active
	}
	return n
}

// Flush writes the records made so far to the file, if any, and returns
// once they are durable. Callers at the same time share one commit: while
// one writes, the others' records gather for the next.
func (u *Usage) Flush() error {
	if u.file == nil {
		return nil
	}
	u.mu.Lock()
	target := u.seq
	u.mu.Unlock()
	u.flushMu.Lock()
	defer u.flushMu.Unlock()
	if u.durable >= target {
		return nil
	}
	u.mu.Lock()
	recs, through, last := u.pending, u.expiredThrough, u.seq
	u.pending = nil
	u.mu.Unlock()
	if err := u.file.write(recs, through, u.keep); err != nil {
		u.mu.Lock()
		u.pending = append(recs, u.pending...)
		u.mu.Unlock()
		return err
	}
	u.durable = last
	return nil
}

// recent returns up to limit records after seq after, newest first,
// choosing with keep.
func (u *Usage) recent(after uint64, limit int, keep func(UsageRecord) bool) []UsageRecord {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.recentLocked(after, limit, keep)
}

func (u *Usage) recentLocked(after uint64, limit int, keep func(UsageRecord) bool) []UsageRecord {
	var out []UsageRecord
	for i := range len(u.ring) {
		// The newest is just before next (or last, while the ring fills).
		r := u.ring[(u.next-1-i+2*len(u.ring))%len(u.ring)]
		if r.Seq <= after || len(out) == limit {
			break
		}
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// active copies the active leases' counts per application, to sum with
// records read elsewhere.
func (u *Usage) active() map[string]appTally {
	u.mu.Lock()
	defer u.mu.Unlock()
	m := make(map[string]appTally, len(u.tally.apps)+1)
	for name, a := range u.tally.apps {
		if a.active != 0 {
			m[name] = appTally{active: a.active, acquiredMs: a.acquiredMs + u.tally.base.UnixMilli()*int64(a.active)}
		}
	}
	if u.tally.other.active != 0 {
		a := u.tally.other
		m[OtherApps] = appTally{active: a.active, acquiredMs: a.acquiredMs + u.tally.base.UnixMilli()*int64(a.active)}
	}
	return m
}

// each calls fn for every record kept, oldest first: those in the file
// when there is one, else those in the ring.
func (u *Usage) each(fn func(UsageRecord) error) error {
	if u.file != nil {
		if err := u.Flush(); err != nil {
			return err
		}
		return u.file.each(fn)
	}
	u.mu.Lock()
	recs := make([]UsageRecord, 0, len(u.ring))
	for i := range len(u.ring) {
		recs = append(recs, u.ring[(u.next+i)%len(u.ring)])
	}
	u.mu.Unlock()
	for _, r := range recs {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// UsageFilter picks records: From inclusive, To exclusive (zero: no
// bound), App exactly (empty: every application).
type UsageFilter struct {
	From, To time.Time
	App      string
}

// Keep reports whether the filter picks r.
func (f UsageFilter) Keep(r UsageRecord) bool {
	return (f.From.IsZero() || !r.Time.Before(f.From)) && (f.To.IsZero() || r.Time.Before(f.To)) &&
		(f.App == "" || r.App == f.App)
}

// keepsApp reports whether the filter picks the application's sum.
func (f UsageFilter) keepsApp(app string) bool { return f.App == "" || f.App == app }

// UsageReport is the body of GET /usage as JSON, and what `ses usage`
// prints: the records picked, oldest first, and their sums per
// application with the leases active now.
type UsageReport struct {
	Records []UsageRecord `json:"records"`
	Summary []AppUsage    `json:"summary"`
	Totals  AppUsage      `json:"totals"`
}

// addActive adds the active leases of an application (their count and
// the sum of their acquisitions in Unix milliseconds), as Usage.active
// gives them, to a tally whose base is the Unix epoch.
func (t *usageTally) addActive(app string, a appTally) {
	x := t.other
	if app != OtherApps {
		x = t.get(app)
	}
	x.active += a.active
	x.acquiredMs += a.acquiredMs
}

// recentDecisions is how many decisions GET /admin/decisions lists.
const recentDecisions = 100

func (r UsageRecord) isDecision() bool { return r.Event.IsDecision() }

// snapshot is what the status feed shows, read at once: the last record's
// number, when the record started, the sums, and with details the sums per
// application and up to limit records after seq after, newest first.
func (u *Usage) snapshot(now time.Time, after uint64, limit int, details bool) (seq uint64, started time.Time, apps []AppUsage, total AppUsage, recs []UsageRecord) {
	u.mu.Lock()
	defer u.mu.Unlock()
	apps, total = u.tally.summary(now)
	if !details {
		apps = nil
	} else {
		recs = u.recentLocked(after, limit, func(UsageRecord) bool { return true })
	}
	return u.seq, u.started, apps, total, recs
}
