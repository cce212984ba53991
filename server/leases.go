package server

import (
	"container/heap"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/netip"
	"sort"
	"sync"
	"time"
	"unique"

	"github.com/seskit/ses/tool"
	bolt "go.etcd.io/bbolt"
)

// Lease is one acquired entitlement of the leasing api-version, as the
// status page and the management API show it.
type Lease struct {
	ID          string    `json:"id"`
	Application string    `json:"app"`
	Remote      string    `json:"remote"`
	Acquired    time.Time `json:"acquired,omitzero"`
	Expiry      time.Time `json:"expiry"`
	Released    bool      `json:"released,omitempty"`
}

// LeaseChange is what happened to a lease.
type LeaseChange string

// The changes a LeaseObserver hears of.
const (
	LeaseAcquired LeaseChange = "acquired"
	LeaseRenewed  LeaseChange = "renewed"
	LeaseReleased LeaseChange = "released" // by its holder, or revoked
	LeaseExpired  LeaseChange = "expired"  // its expiry came, unreleased
	// LeaseRestored is an active lease read from the lease file when the
	// observer starts listening: not a change, the state it starts from.
	LeaseRestored LeaseChange = "restored"
)

// LeaseEvent is one change of a lease: the lease after it, and when it
// happened (for an expiry, the lease's expiry).
type LeaseEvent struct {
	Change LeaseChange
	Lease  Lease
	At     time.Time
}

// LeaseObserver hears every change of the leases, in order, with the table
// locked: it must return quickly and never call back into Leases.
type LeaseObserver interface {
	LeaseChanged(LeaseEvent)
}

// Outcomes of a renewal or release that are not a success.
var (
	errLeaseNotFound = errors.New("no such entitlement")
	errReleased      = errors.New("entitlement already released")
	errLeaseExpired  = errors.New("entitlement lease expired")
)

// leaseRetention is how long an expired or released lease is remembered,
// from its expiry, so a late renewal hears 409 rather than 404.
const leaseRetention = time.Hour

// leaseID is the 16 random bytes behind the 32 hex digits a client sees.
type leaseID [16]byte

func (id leaseID) String() string { return hex.EncodeToString(id[:]) }

// parseLeaseID reads the id of a request path; anything but 32 hex digits
// names no lease.
func parseLeaseID(s string) (leaseID, bool) {
	var id leaseID
	if len(s) != 2*len(id) {
		return id, false
	}
	_, err := hex.Decode(id[:], []byte(s))
	return id, err == nil
}

// lease is the record held per lease. It is kept small because a shared
// test host may hold very many: times as Unix nanoseconds, the application
// name interned, and only the token's expiry, never its text.
type lease struct {
	id          leaseID
	app         unique.Handle[string]
	remote      netip.Addr
	acquired    int64 // 0 for a lease restored from a file that lacked it
	tokenExpiry int64
	expiry      int64
	index       int // position in the expiry heap
	released    bool
}

func (l *lease) view() Lease {
	v := Lease{ID: l.id.String(), Application: l.app.Value(), Remote: l.remote.String(),
		Expiry: time.Unix(0, l.expiry).UTC(), Released: l.released}
	if l.acquired != 0 {
		v.Acquired = time.Unix(0, l.acquired).UTC()
	}
	return v
}

// Leases holds the leases in memory and, when opened on a file, in a bbolt
// database written before a lease is acknowledged. The expiry heap holds
// the leases not yet expired; those past their expiry wait in ended,
// oldest first, until leaseRetention has passed.
type Leases struct {
	mu       sync.Mutex
	byID     map[leaseID]*lease
	expiry   expiryHeap
	ended    []*lease
	file     *leaseFile
	observer LeaseObserver
}

// NewLeases returns an empty in-memory lease table.
func NewLeases() *Leases { return &Leases{byID: map[leaseID]*lease{}} }

// OpenLeases opens (or creates) a lease file and restores its leases.
func OpenLeases(path string) (*Leases, error) {
	f, restored, err := openLeaseFile(path)
	if err != nil {
		return nil, err
	}
	l := NewLeases()
	l.file = f
	for _, x := range restored {
		l.insert(x)
	}
	return l, nil
}

// Close closes the lease file, if any.
func (l *Leases) Close() error {
	if l.file == nil {
		return nil
	}
	return l.file.close()
}

// DB is the lease file's database, for other buckets kept beside the
// leases; nil when the leases are in memory.
func (l *Leases) DB() *bolt.DB {
	if l.file == nil {
		return nil
	}
	return l.file.db
}

// Observe makes o hear of every change from now on, first of each active
// lease as LeaseRestored. Leases already past their expiry are then heard
// of as expired.
func (l *Leases) Observe(o LeaseObserver, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.observer = o
	for _, x := range l.expiry {
		if !x.released {
			o.LeaseChanged(LeaseEvent{Change: LeaseRestored, Lease: x.view(), At: now})
		}
	}
	l.sweep(now)
}

// Expire ends the leases whose expiry has come, so an observer hears of
// them without waiting for the next request.
func (l *Leases) Expire(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
}

func (l *Leases) notify(c LeaseChange, x *lease, at time.Time) {
	if l.observer != nil {
		l.observer.LeaseChanged(LeaseEvent{Change: c, Lease: x.view(), At: at})
	}
}

func (l *Leases) insert(x *lease) {
	l.byID[x.id] = x
	heap.Push(&l.expiry, x)
}

// Acquire records a new lease for app, held from remote until expiry, on a
// token valid until tokenExpiry. It returns once the lease is durable.
func (l *Leases) Acquire(app string, remote netip.Addr, tokenExpiry, expiry, now time.Time) (Lease, error) {
	x := &lease{app: unique.Make(app), remote: remote, acquired: now.UnixNano(), tokenExpiry: tokenExpiry.UnixNano(), expiry: expiry.UnixNano()}
	rand.Read(x.id[:])
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	if err := l.file.put(x); err != nil {
		return Lease{}, err
	}
	l.insert(x)
	l.notify(LeaseAcquired, x, now)
	return x.view(), nil
}

// Renew extends a live lease by d from now, never past the expiry of the
// token it was acquired with; a token that has expired since (with the
// verifier's leeway) is refused with a *tool.Error.
func (l *Leases) Renew(id string, d time.Duration, now time.Time) (Lease, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	x, err := l.find(id)
	switch {
	case err != nil:
		return Lease{}, err
	case x.released:
		return x.view(), errReleased
	case now.UnixNano() >= x.expiry:
		return x.view(), errLeaseExpired
	}
	tokenExpiry := time.Unix(0, x.tokenExpiry)
	if !now.Add(-tool.Leeway).Before(tokenExpiry) {
		return x.view(), &tool.CheckError{Reason: tool.ReasonExpired, Msg: "the lease's token expired at " + tool.FormatTime(tokenExpiry)}
	}
	renewed := *x
	renewed.expiry = min(now.Add(d).UnixNano(), x.tokenExpiry)
	if err := l.file.put(&renewed); err != nil {
		return x.view(), err
	}
	x.expiry = renewed.expiry
	heap.Fix(&l.expiry, x.index)
	l.notify(LeaseRenewed, x, now)
	return x.view(), nil
}

// Release ends a lease. Releasing it again is not an error; a late renewal
// hears errReleased.
func (l *Leases) Release(id string, now time.Time) (Lease, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	x, err := l.find(id)
	if err != nil {
		return Lease{}, err
	}
	if x.released {
		return x.view(), nil
	}
	released := *x
	released.released = true
	if err := l.file.put(&released); err != nil {
		return x.view(), err
	}
	x.released = true
	if now.UnixNano() < x.expiry { // an expired lease was heard of already
		l.notify(LeaseReleased, x, now)
	}
	return x.view(), nil
}

func (l *Leases) find(id string) (*lease, error) {
	key, ok := parseLeaseID(id)
	if !ok {
		return nil, errLeaseNotFound
	}
	x, ok := l.byID[key]
	if !ok {
		return nil, errLeaseNotFound
	}
	return x, nil
}

// Active lists up to limit leases that are neither released nor expired,
// soonest expiry first (limit < 0: all), and counts them all.
func (l *Leases) Active(now time.Time, limit int) (list []Lease, total int) {
	l.mu.Lock()
	var live []*lease
	for _, x := range l.byID {
		if !x.released && now.UnixNano() < x.expiry {
			live = append(live, x)
		}
	}
	total = len(live)
	sort.Slice(live, func(i, j int) bool { return live[i].expiry < live[j].expiry })
	if limit >= 0 && len(live) > limit {
		live = live[:limit]
	}
	list = make([]Lease, len(live))
	for i, x := range live {
		list[i] = x.view()
	}
	l.mu.Unlock()
	return list, total
}

// Len counts the leases remembered, live or not.
func (l *Leases) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.byID)
}

// sweep moves the leases whose expiry has come from the top of the expiry
// heap to ended (the unreleased ones heard of as expired), and forgets
// those that expired more than leaseRetention ago; so its cost follows the
// number of leases that ended rather than the number held. A failure to
// delete them from the file is harmless: they are swept again on restart.
func (l *Leases) sweep(now time.Time) {
	for len(l.expiry) > 0 && l.expiry[0].expiry <= now.UnixNano() {
		x := heap.Pop(&l.expiry).(*lease)
		if !x.released {
			l.notify(LeaseExpired, x, time.Unix(0, x.expiry))
		}
		l.ended = append(l.ended, x)
	}
	cutoff := now.Add(-leaseRetention).UnixNano()
	var gone []leaseID
	n := 0
	for n < len(l.ended) && l.ended[n].expiry < cutoff {
		delete(l.byID, l.ended[n].id)
		gone = append(gone, l.ended[n].id)
		n++
	}
	if n > 0 {
		l.ended = append(l.ended[:0:0], l.ended[n:]...)
	}
	l.file.delete(gone)
}

// expiryHeap is a min-heap of leases by expiry; each lease knows its index
// so a renewal moves it in place.
type expiryHeap []*lease

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].expiry < h[j].expiry }
func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *expiryHeap) Push(x any) {
	item := x.(*lease)
	item.index = len(*h)
	*h = append(*h, item)
}
func (h *expiryHeap) Pop() any {
	old := *h
	item := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return item
}
