package server

import (
	"container/heap"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"slices"
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
	Expiry      time.Time `json:"expiry"`
	Released    bool      `json:"released,omitempty"`
}

// Fingerprint is a short digest of the lease's id, to show where the id
// itself must not be seen: the first 8 hex digits of the SHA-256 of the id
// as the client has it. It names a lease for a person, but cannot be
// turned back into the id that renews or releases it.
func (l Lease) Fingerprint() string {
	sum := sha256.Sum256([]byte(l.ID))
	return hex.EncodeToString(sum[:4])
}

// Outcomes of an acquisition, renewal or release that are not a success.
var (
	errLeaseNotFound = errors.New("no such entitlement")
	errReleased      = errors.New("entitlement already released")
	errLeaseExpired  = errors.New("entitlement lease expired")
)

// tooManyLeasesError refuses an acquisition on a token that holds as many
// active leases as allowed.
type tooManyLeasesError struct{ limit int }

func (e *tooManyLeasesError) Error() string {
	return fmt.Sprintf("the token holds %d active leases, the most allowed", e.limit)
}

// DefaultMaxLeasesPerToken is how many active leases one token may hold
// unless --max-leases-per-token says.
const DefaultMaxLeasesPerToken = 100

// How long, and how many, ended leases (released or expired) are
// remembered, so that a late renewal hears 409 rather than 404. Past
// either bound the oldest is forgotten; memory stays flat under any churn.
const (
	endedRetention = time.Hour
	maxEnded       = 50_000
)

// leaseID is the 16 random bytes behind the 32 hex digits a client sees.
type leaseID [16]byte

func (id leaseID) String() string { return hex.EncodeToString(id[:]) }

// parseLeaseID reads the id of a request path: 32 lower-case hex digits,
// as the server writes them. Anything else, an upper-cased id included,
// names no lease: ids are opaque and matched exactly.
func parseLeaseID(s string) (leaseID, bool) {
	var id leaseID
	if len(s) != 2*len(id) {
		return id, false
	}
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return id, false
		}
	}
	_, err := hex.Decode(id[:], []byte(s))
	return id, err == nil
}

// holder is what the leases acquired with one token share: the token's
// digest, the addresses it entitles (only those may renew or release the
// leases), its expiry (no lease outlives it) and how many of its leases
// are active.
type holder struct {
	digest      [sha256.Size]byte
	addresses   []string // the token's ip claim
	tokenExpiry int64    // Unix nanoseconds
	active      int
}

// entitles reports whether a request from addr may act on the holder's
// leases: addr is one of the token's addresses, compared as the verifier
// compares them. A zero addr is never entitled.
func (h *holder) entitles(addr netip.Addr) bool {
	return addr.IsValid() && tool.EntitlesAddress(h.addresses, addr)
}

// lease is the record held per active lease. It is kept small because a
// shared test host may hold very many: times as Unix nanoseconds, the
// application name interned, and what the token's leases share in their
// holder, never the token's text.
type lease struct {
	id     leaseID
	holder *holder
	app    unique.Handle[string]
	remote netip.Addr
	expiry int64
	index  int // position in the expiry heap
}

func (x *lease) view() Lease {
	return Lease{ID: x.id.String(), Application: x.app.Value(), Remote: x.remote.String(), Expiry: time.Unix(0, x.expiry).UTC()}
}

// endedLease is what is remembered of a lease that ended: enough to answer
// a late renewal or release (409, or 204 for a release) and no more.
type endedLease struct {
	holder   *holder
	app      unique.Handle[string]
	ended    int64 // Unix nanoseconds: its expiry, or when it was released
	released bool
}

func (e endedLease) view(id leaseID) Lease {
	return Lease{ID: id.String(), Application: e.app.Value(), Expiry: time.Unix(0, e.ended).UTC(), Released: e.released}
}

// Leases holds the leases in memory and, when opened on a file, in a bbolt
// database where each change is committed before it is acknowledged.
// Active leases sit in a map by id and a min-heap by expiry; ended ones in
// a bounded queue. No operation scans them all.
type Leases struct {
	mu      sync.Mutex
	byID    map[leaseID]*lease
	expiry  expiryHeap
	holders map[[sha256.Size]byte]*holder // those with active leases
	ended   map[leaseID]endedLease
	order   idQueue // the ended leases, oldest first
	file    *leaseFile
}

// NewLeases returns an empty in-memory lease table.
func NewLeases() *Leases {
	return &Leases{byID: map[leaseID]*lease{}, holders: map[[sha256.Size]byte]*holder{}, ended: map[leaseID]endedLease{}}
}

// OpenLeases opens (or creates) a lease file and restores its leases:
// those still active, and the ended ones within endedRetention and
// maxEnded, oldest first.
func OpenLeases(path string) (*Leases, error) {
	f, records, err := openLeaseFile(path)
	if err != nil {
		return nil, err
	}
	l := NewLeases()
	now := time.Now()
	var ended []restored
	for _, r := range records {
		if r.released || now.UnixNano() >= r.expiry {
			ended = append(ended, r)
			continue
		}
		h := r.holder
		if shared := l.holders[h.digest]; shared != nil {
			h = shared
		} else if h.digest != ([sha256.Size]byte{}) {
			l.holders[h.digest] = h
		}
		l.insert(&lease{id: r.id, holder: h, app: r.app, remote: r.remote, expiry: r.expiry})
	}
	slices.SortFunc(ended, func(a, b restored) int { return compareInt64(a.expiry, b.expiry) })
	for _, r := range ended {
		l.ended[r.id] = endedLease{holder: r.holder, app: r.app, ended: r.expiry, released: r.released}
		l.order.push(r.id)
	}
	l.file = f
	l.mu.Lock()
	l.sweep(now) // forgets, in the file too, those ended too long ago
	l.mu.Unlock()
	return l, nil
}

// Close writes what is pending and closes the lease file, if any.
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

// Commit runs fn in the lease file's next group commit, in the same
// transaction as the lease changes made before it, and returns once that
// is durable. An error from fn undoes fn alone. With the leases in memory
// there is nothing to commit to: Commit returns an error.
func (l *Leases) Commit(fn func(*bolt.Tx) error) error {
	if l.file == nil {
		return errors.New("leases are kept in memory: there is no lease file")
	}
	return l.file.enqueue(fileOp{fn: fn}).wait()
}

// insert adds an active lease.
func (l *Leases) insert(x *lease) {
	l.byID[x.id] = x
	heap.Push(&l.expiry, x)
	x.holder.active++
}

// remove takes an active lease out of the active set.
func (l *Leases) remove(x *lease) {
	delete(l.byID, x.id)
	heap.Remove(&l.expiry, x.index)
	x.holder.active--
	if x.holder.active == 0 && l.holders[x.holder.digest] == x.holder {
		delete(l.holders, x.holder.digest)
	}
}

// end moves an active lease to the ended ones.
func (l *Leases) end(x *lease, at int64, released bool) {
	l.remove(x)
	l.ended[x.id] = endedLease{holder: x.holder, app: x.app, ended: at, released: released}
	l.order.push(x.id)
}

// Acquire records a new lease for app, held from remote until expiry, on
// the opened token tok; limit bounds the active leases one token may hold
// (a *tooManyLeasesError past it). It returns once the lease is durable.
func (l *Leases) Acquire(tok *tool.Token, app string, remote netip.Addr, expiry, now time.Time, limit int) (Lease, error) {
	x := &lease{app: unique.Make(app), remote: remote, expiry: expiry.UnixNano()}
	rand.Read(x.id[:])
	l.mu.Lock()
	l.sweep(now)
	h := l.holders[tok.Digest]
	switch {
	case h == nil:
		h = &holder{digest: tok.Digest, addresses: tok.Claims.Addresses, tokenExpiry: tok.Claims.Expiry.UnixNano()}
		l.holders[h.digest] = h
	case h.active >= limit:
		l.mu.Unlock()
		return Lease{}, &tooManyLeasesError{limit: limit}
	}
	x.holder = h
	l.insert(x)
	view := x.view()
	pending := l.file.enqueue(putOp(x))
	l.mu.Unlock()
	if err := pending.wait(); err != nil {
		l.mu.Lock()
		if l.byID[x.id] == x {
			l.remove(x) // never acknowledged: as if never acquired
		}
		l.mu.Unlock()
		return Lease{}, err
	}
	return view, nil
}

// Renew extends a live lease by d from now, never past the expiry of the
// token it was acquired with; a token that has expired since (with the
// verifier's leeway) is refused with a *tool.CheckError. Only an address
// the token entitles may renew: from any other, the lease is not found.
func (l *Leases) Renew(id string, from netip.Addr, d time.Duration, now time.Time) (Lease, error) {
	key, ok := parseLeaseID(id)
	if !ok {
		return Lease{}, errLeaseNotFound
	}
	l.mu.Lock()
	l.sweep(now)
	x := l.byID[key]
	if x == nil {
		e, ok := l.ended[key]
		l.mu.Unlock()
		switch {
		case !ok || !e.holder.entitles(from):
			return Lease{}, errLeaseNotFound
		case e.released:
			return e.view(key), errReleased
		default:
			return e.view(key), errLeaseExpired
		}
	}
	if !x.holder.entitles(from) {
		l.mu.Unlock()
		return Lease{}, errLeaseNotFound
	}
	tokenExpiry := time.Unix(0, x.holder.tokenExpiry)
	if !now.Add(-tool.Leeway).Before(tokenExpiry) {
		view := x.view()
		l.mu.Unlock()
		return view, &tool.CheckError{Reason: tool.ReasonExpired, Msg: "the lease's token expired at " + tool.FormatTime(tokenExpiry)}
	}
	x.expiry = min(now.Add(d).UnixNano(), x.holder.tokenExpiry)
	heap.Fix(&l.expiry, x.index)
	view := x.view()
	pending := l.file.enqueue(putOp(x))
	l.mu.Unlock()
	return view, pending.wait()
}

// Release ends a lease. Releasing it again, or once it expired, is not an
// error; a late renewal hears errReleased. Only an address the token
// entitles may release: from any other, the lease is not found.
//
// A release is answered once it is queued for the lease file, without
// waiting for its commit: a crash in the few milliseconds before it leaves
// the lease active until it expires, which costs no client anything,
// while acquisitions and renewals wait for theirs.
func (l *Leases) Release(id string, from netip.Addr, now time.Time) (Lease, error) {
	return l.release(id, now, func(h *holder) bool { return h.entitles(from) })
}

// Revoke releases a lease for the management API, whoever holds it.
func (l *Leases) Revoke(id string, now time.Time) (Lease, error) {
	return l.release(id, now, func(*holder) bool { return true })
}

func (l *Leases) release(id string, now time.Time, allowed func(*holder) bool) (Lease, error) {
	key, ok := parseLeaseID(id)
	if !ok {
		return Lease{}, errLeaseNotFound
	}
	l.mu.Lock()
	l.sweep(now)
	var op fileOp
	if x := l.byID[key]; x != nil {
		if !allowed(x.holder) {
			l.mu.Unlock()
			return Lease{}, errLeaseNotFound
		}
		l.end(x, now.UnixNano(), true)
		op = releasedOp(key, l.ended[key])
	} else {
		e, ok := l.ended[key]
		switch {
		case !ok || !allowed(e.holder):
			l.mu.Unlock()
			return Lease{}, errLeaseNotFound
		case e.released:
			l.mu.Unlock()
			return e.view(key), nil
		}
		e.released = true
		l.ended[key] = e
		op = releasedOp(key, e)
	}
	view := l.ended[key].view(key)
	l.file.enqueue(op)
	l.mu.Unlock()
	return view, nil
}

// Active lists up to limit leases that are neither released nor expired,
// soonest expiry first, and counts them all. It takes the limit first from
// the expiry heap, in O(limit log limit). A negative limit lists them all,
// sorted outside the lock.
func (l *Leases) Active(now time.Time, limit int) (list []Lease, total int) {
	if limit < 0 {
		return l.all(now)
	}
	l.mu.Lock()
	l.sweep(now)
	total = len(l.expiry)
	list = make([]Lease, 0, min(limit, total))
	// The heap's smallest are found by walking it from the root with a
	// second heap of the candidates: each step takes the smallest and
	// offers its two children.
	next := candidateHeap{h: l.expiry}
	if total > 0 {
		next.idx = append(next.idx, 0)
	}
	for len(list) < limit && len(next.idx) > 0 {
		i := heap.Pop(&next).(int)
		list = append(list, l.expiry[i].view())
		for _, c := range []int{2*i + 1, 2*i + 2} {
			if c < total {
				heap.Push(&next, c)
			}
		}
	}
	l.mu.Unlock()
	return list, total
}

// all lists every active lease: copied under the lock, sorted outside it.
func (l *Leases) all(now time.Time) ([]Lease, int) {
	l.mu.Lock()
	l.sweep(now)
	copies := make([]lease, len(l.expiry))
	for i, x := range l.expiry {
		copies[i] = *x
	}
	l.mu.Unlock()
	slices.SortFunc(copies, func(a, b lease) int { return compareInt64(a.expiry, b.expiry) })
	list := make([]Lease, len(copies))
	for i := range copies {
		list[i] = copies[i].view()
	}
	return list, len(list)
}

func compareInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Len counts the leases remembered, active or ended.
func (l *Leases) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.byID) + len(l.ended)
}

// sweep ends the leases whose expiry has come, taking them from the top of
// the expiry heap, and forgets the ended leases past endedRetention or
// maxEnded, oldest first; so its cost follows the number of leases that
// ended rather than the number held. Forgotten leases leave the file too,
// without waiting: one left behind by a crash is swept again on restart.
func (l *Leases) sweep(now time.Time) {
	n := now.UnixNano()
	for len(l.expiry) > 0 && l.expiry[0].expiry <= n {
		x := l.expiry[0]
		l.end(x, x.expiry, false)
	}
	cutoff := now.Add(-endedRetention).UnixNano()
	for l.order.len() > 0 {
		id := l.order.front()
		if l.order.len() <= maxEnded && l.ended[id].ended >= cutoff {
			break
		}
		l.order.pop()
		delete(l.ended, id)
		l.file.enqueue(fileOp{del: true, id: id})
	}
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

// candidateHeap orders positions of an expiry heap by their lease's
// expiry, for Active's walk.
type candidateHeap struct {
	h   expiryHeap
	idx []int
}

func (c candidateHeap) Len() int           { return len(c.idx) }
func (c candidateHeap) Less(i, j int) bool { return c.h[c.idx[i]].expiry < c.h[c.idx[j]].expiry }
func (c candidateHeap) Swap(i, j int)      { c.idx[i], c.idx[j] = c.idx[j], c.idx[i] }
func (c *candidateHeap) Push(x any)        { c.idx = append(c.idx, x.(int)) }
func (c *candidateHeap) Pop() any {
	i := c.idx[len(c.idx)-1]
	c.idx = c.idx[:len(c.idx)-1]
	return i
}

// idQueue is a first-in first-out queue of lease ids in a ring that grows
// as needed.
type idQueue struct {
	ring []leaseID
	head int
	n    int
}

func (q *idQueue) len() int       { return q.n }
func (q *idQueue) front() leaseID { return q.ring[q.head] }
func (q *idQueue) pop()           { q.head = (q.head + 1) % len(q.ring); q.n-- }
func (q *idQueue) push(id leaseID) {
	if q.n == len(q.ring) {
		grown := make([]leaseID, max(16, 2*len(q.ring)))
		for i := range q.n {
			grown[i] = q.ring[(q.head+i)%len(q.ring)]
		}
		q.ring, q.head = grown, 0
	}
	q.ring[(q.head+q.n)%len(q.ring)] = id
	q.n++
}
