package server

import (
	"fmt"
	"net/netip"
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
	Peer        netip.Addr    `json:"peer,omitzero"`
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
	r.App, r.APIVersion = clip(r.App, maxRecordText), clip(r.APIVersion, maxRecordText)
	r.Reason, r.Explanation = clip(r.Reason, maxRecordText), clip(r.Explanation, maxRecordExplanation)
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
// database, written in the lease file's group commits: the records of a
// lease change in the same transaction as the change. It hears of lease
// changes from the lease table (Leases.Observe) and sums them per
// application as they come, so nothing it answers scans the leases. With
// a lease file a record is kept in memory once it is committed, as the
// answer it describes is sent.
type Usage struct {
	mu   sync.Mutex
	ring []UsageRecord
	// ringJSON[i] is ring[i] as JSON once the status feed has written it
	// (nil before), so that each record is encoded once however many
	// pages poll.
	ringJSON [][]byte
	next     int
	seq      uint64
	tally    *usageTally
	started  time.Time
	// expiredThrough (Unix nanoseconds): every lease that expired up to
	// then has its expiry recorded (with a lease file, queued with the
	// transaction that writes how far). The lease table ends leases in
	// expiry order, so it is the last expiry recorded.
	expiredThrough int64

	file *usageFile // nil in memory; set before the record is used
}

// leaseRequest is the decision of a request asking for a lease change,
// made approved before the change. When the change is made, the lease
// table has it recorded with the change (taken), so that both are
// committed in one transaction; otherwise the request records its own.
type leaseRequest struct {
	record UsageRecord
	taken  bool
}

// queuedRecord is a record on its way to the lease file with the change
// it describes; it is numbered in the transaction that writes it and kept
// in memory once that is committed.
type queuedRecord struct {
	UsageRecord
	// change marks the record of a lease change, which the sums of active
	// leases follow, from when the lease was acquired.
	change   bool
	acquired time.Time
	// expired is, for an expiry, its instant to the nanosecond (the record
	// keeps milliseconds): how far expiries are recorded.
	expired int64
	// provisional is a record kept only if its change is committed: an
	// acquisition (undone otherwise) and a request's decision on a change
	// (answered 500 otherwise). Any other is kept in memory even if the
	// file failed, as the change stays made there.
	provisional bool
}

// NewUsage returns an in-memory usage record of at most size records,
// started at now.
func NewUsage(size int, now time.Time) *Usage {
	if size <= 0 {
		size = DefaultUsageRecords
	}
	return &Usage{ring: make([]UsageRecord, 0, size), ringJSON: make([][]byte, 0, size), tally: newUsageTally(now), started: now}
}

// add records r, a decision. In memory it is kept at once; with a lease
// file it is queued for the next commit, and kept once committed: the
// pending returned tells when.
func (u *Usage) add(r UsageRecord) pending {
	if u.file != nil {
		return u.file.leases.enqueue(fileOp{fn: noChange, usage: []queuedRecord{{UsageRecord: r}}})
	}
	u.mu.Lock()
	u.number(&r)
	u.keepLocked(queuedRecord{UsageRecord: r})
	u.mu.Unlock()
	return pending{}
}

// number gives r the next sequence number, and its times and texts the
// form they are kept in.
func (u *Usage) number(r *UsageRecord) {
	u.seq++
	r.Seq = u.seq
	r.Time = r.Time.UTC().Truncate(time.Millisecond)
	if !r.Expiry.IsZero() {
		r.Expiry = r.Expiry.UTC().Truncate(time.Millisecond)
	}
	r.clip()
}

// keepLocked puts a numbered record in the ring and the sums.
func (u *Usage) keepLocked(q queuedRecord) {
	u.push(q.UsageRecord)
	u.tally.record(q.UsageRecord)
	if q.change {
		switch q.Event {
		case UsageAcquired:
			u.tally.activeAdd(q.App, q.acquired)
		case UsageReleased, UsageExpired:
			u.tally.activeRemove(q.App, q.acquired)
		}
	}
}

// push puts r in the ring, over the oldest once it is full.
func (u *Usage) push(r UsageRecord) {
	if len(u.ring) < cap(u.ring) {
		u.ring, u.ringJSON = append(u.ring, r), append(u.ringJSON, nil)
		return
	}
	u.ring[u.next], u.ringJSON[u.next] = r, nil
	u.next = (u.next + 1) % cap(u.ring)
}

// restored counts an active lease found when the record starts hearing
// of the lease table: not a change, the state it starts from.
func (u *Usage) restored(app string, acquired int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	at := u.started
	if acquired != 0 {
		at = time.Unix(0, acquired)
	}
	u.tally.activeAdd(clip(app, maxRecordText), at)
}

// leaseChanged makes the records of a change of a lease, and of the
// decision req of the request that asked for it, if any. The lease table
// calls it with its lock held, before it queues the change: in memory the
// records are kept at once, with a lease file they are returned for the
// change to carry. It takes only the record's own lock and never waits.
func (u *Usage) leaseChanged(e LeaseEvent, req *leaseRequest) []queuedRecord {
	u.mu.Lock()
	defer u.mu.Unlock()
	acquired := e.Lease.Acquired
	if acquired.IsZero() { // restored from a file that did not keep it
		acquired = u.started
	}
	if e.Change == LeaseExpired {
		if e.At.UnixNano() <= u.expiredThrough { // recorded before a restart
			u.tally.activeRemove(clip(e.Lease.Application, maxRecordText), acquired)
			return nil
		}
		u.expiredThrough = e.At.UnixNano()
	}
	fingerprint := e.Lease.Fingerprint()
	peer, _ := netip.ParseAddr(e.Lease.Remote)
	var buf [2]queuedRecord
	recs := append(buf[:0], queuedRecord{
		UsageRecord: UsageRecord{Time: e.At, Event: UsageEvent(e.Change), App: e.Lease.Application, Peer: peer,
			Lease: fingerprint, Expiry: e.Lease.Expiry.UTC(), HeldSeconds: heldSeconds(e.At.Sub(acquired))},
		change: true, acquired: acquired, provisional: e.Change == LeaseAcquired,
	})
	if e.Change == LeaseExpired {
		recs[0].expired = e.At.UnixNano()
	}
	if req != nil { // the decision follows the change it made
		d := req.record
		d.App, d.Lease = e.Lease.Application, fingerprint
		recs = append(recs, queuedRecord{UsageRecord: d, provisional: true})
		req.taken = true
	}
	if u.file != nil {
		return append([]queuedRecord(nil), recs...)
	}
	for _, q := range recs {
		u.number(&q.UsageRecord)
		u.keepLocked(q)
	}
	return nil
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

// Flush returns once the records made so far are committed to the lease
// file, if any.
func (u *Usage) Flush() error {
	if u.file == nil {
		return nil
	}
	return u.file.leases.enqueue(fileOp{fn: noChange}).wait()
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

// feedRecords are the records of a status feed, newest first: the JSON of
// each, kept from an earlier feed or written by encode, and the slot of
// the ring it is in; fresh lists those whose JSON is still to be written
// (their index, and a copy of the record).
type feedRecords struct {
	json  [][]byte
	slots []int
	fresh []int
	recs  []UsageRecord
}

// snapshot is what the status feed shows, read at once: the last record's
// number, when the record started, the sums, and with details the sums per
// application and up to limit records after seq after, in f.
func (u *Usage) snapshot(now time.Time, after uint64, limit int, details bool, f *feedRecords) (seq uint64, started time.Time, apps []AppUsage, total AppUsage) {
	u.mu.Lock()
	defer u.mu.Unlock()
	apps, total = u.tally.summary(now)
	if !details {
		return u.seq, u.started, nil, total
	}
	for i := range len(u.ring) {
		// The newest is just before next (or last, while the ring fills).
		slot := (u.next - 1 - i + 2*len(u.ring)) % len(u.ring)
		if u.ring[slot].Seq <= after || len(f.json) == limit {
			break
		}
		if u.ringJSON[slot] == nil {
			f.fresh, f.recs = append(f.fresh, len(f.json)), append(f.recs, u.ring[slot])
		}
		f.json, f.slots = append(f.json, u.ringJSON[slot]), append(f.slots, slot)
	}
	return u.seq, u.started, apps, total
}

// encode writes the JSON of the records snapshot found without it, and
// keeps it with each that is still in its slot of the ring, for the next
// feed: each record is encoded once however many pages poll.
func (u *Usage) encode(f *feedRecords) {
	if len(f.fresh) == 0 {
		return
	}
	for k, i := range f.fresh {
		f.json[i] = appendUsageRecord(nil, &f.recs[k])
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for k, i := range f.fresh {
		if slot := f.slots[i]; slot < len(u.ring) && u.ring[slot].Seq == f.recs[k].Seq {
			u.ringJSON[slot] = f.json[i]
		}
	}
}
