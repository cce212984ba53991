package server

import (
	"cmp"
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

// The changes the usage record hears of (Leases.Observe).
const (
	LeaseAcquired LeaseChange = "acquired"
	LeaseRenewed  LeaseChange = "renewed"
	LeaseReleased LeaseChange = "released" // by its holder, or revoked
	LeaseExpired  LeaseChange = "expired"  // its expiry came, unreleased
)

// LeaseEvent is one change of a lease: the lease after it, and when it
// happened (for an expiry, the lease's expiry).
type LeaseEvent struct {
	Change LeaseChange
	Lease  Lease
	At     time.Time
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
// are active. It is never changed once made but for the count, which the
// lease file never reads.
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

// lease is what is held per active lease. It is small and holds no
// pointer, so that a million of them cost the garbage collector nothing to
// scan: times as Unix nanoseconds, the holder and the application name as
// indexes into tables the leases share, the address as 16 bytes.
type lease struct {
	id       leaseID
	remote   [16]byte // the acquiring address, IPv4 as IPv4-mapped
	acquired int64    // 0 for a lease restored from a file that lacked it
	expiry   int64
	key      uint64 // its record's in the lease file
	holder   int32
	app      int32
	pos      int32 // position in the expiry heap
	hasIP    bool
}

func packAddr(a netip.Addr) ([16]byte, bool) { return a.As16(), a.IsValid() }

func unpackAddr(b [16]byte, ok bool) netip.Addr {
	if !ok {
		return netip.Addr{}
	}
	return netip.AddrFrom16(b).Unmap()
}

// endedLease is what is remembered of a lease that ended: enough to answer
// a late renewal or release (409, or 204 for a release) and no more.
type endedLease struct {
	ended    int64 // Unix nanoseconds: its expiry, or when it was released
	key      uint64
	holder   int32
	app      int32
	released bool
}

// Leases holds the leases in memory and, when opened on a file, in a bbolt
// database where each change is committed before it is acknowledged.
// Active leases sit in a slab indexed by id and ordered by a min-heap of
// expiry; ended ones in a bounded queue. No operation scans them all.
// Once observed, every change is told to the usage record with the table
// locked, and the records it makes of the change are committed with it.
type Leases struct {
	mu       sync.Mutex
	slab     []lease
	free     []int32 // unused slots of slab
	byID     map[leaseID]int32
	expiry   []int32 // a min-heap of slab slots by expiry
	holders  table[*holder]
	byDigest map[[sha256.Size]byte]int32 // holders by token, while referred to
	apps     table[string]
	byApp    map[string]int32
	ended    map[leaseID]endedLease
	order    idQueue // the ended leases, oldest first
	file     *leaseFile
	usage    *Usage // hears of every change; nil until Observe
	// unheard are the leases the file held unreleased past their expiry,
	// oldest first: Observe tells the usage record of their expiry.
	unheard []restored
	lastKey uint64 // the lease file's last record number
}

// NewLeases returns an empty in-memory lease table.
func NewLeases() *Leases {
	return &Leases{byID: map[leaseID]int32{}, byDigest: map[[sha256.Size]byte]int32{}, byApp: map[string]int32{}, ended: map[leaseID]endedLease{}}
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
		l.lastKey = max(l.lastKey, r.key)
		x := lease{id: r.id, key: r.key, acquired: r.acquired, expiry: r.expiry, holder: l.holderFor(r.holder), app: l.appFor(r.app)}
		x.remote, x.hasIP = packAddr(r.remote)
		l.insert(x)
	}
	slices.SortFunc(ended, func(a, b restored) int { return cmp.Compare(a.expiry, b.expiry) })
	for _, r := range ended {
		l.lastKey = max(l.lastKey, r.key)
		l.ended[r.id] = endedLease{key: r.key, holder: l.holderFor(r.holder), app: l.appFor(r.app), ended: r.expiry, released: r.released}
		l.order.push(r.id)
		if !r.released {
			l.unheard = append(l.unheard, r)
		}
	}
	l.file = f
	l.mu.Lock()
	l.sweep(now) // forgets, in the file too, those ended too long ago
	l.mu.Unlock()
	return l, nil
}

// Observe makes the usage record u hear of every change from now on, with
// the table locked. It first counts each active lease as held, then hears
// of the expiry of those that the lease file held past their expiry (it
// knows which it recorded already) and of those whose expiry has come.
func (l *Leases) Observe(u *Usage, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.usage = u
	for _, i := range l.expiry {
		x := &l.slab[i]
		u.restored(l.apps.at(x.app), x.acquired)
	}
	var recs []queuedRecord
	for _, r := range l.unheard {
		u.restored(r.app, r.acquired)
		x := Lease{ID: r.id.String(), Application: r.app, Remote: r.remote.String(), Expiry: time.Unix(0, r.expiry).UTC()}
		if r.acquired != 0 {
			x.Acquired = time.Unix(0, r.acquired).UTC()
		}
		recs = append(recs, u.leaseChanged(LeaseEvent{Change: LeaseExpired, Lease: x, At: x.Expiry}, nil)...)
	}
	l.unheard = nil
	l.queueRecords(recs)
	l.sweep(now)
}

// Expire ends the leases whose expiry has come, so that the usage record
// hears of them without waiting for the next request, and returns once
// their records are committed.
func (l *Leases) Expire(now time.Time) error {
	l.mu.Lock()
	pending := l.sweep(now)
	l.mu.Unlock()
	return pending.wait()
}

// notify tells the usage record of a change, with the table locked, and
// returns the records to commit with it (none in memory, where they are
// kept at once). req is the decision of the request that asked for the
// change, if any: it is recorded with it.
func (l *Leases) notify(c LeaseChange, x Lease, at time.Time, req *leaseRequest) []queuedRecord {
	if l.usage == nil {
		return nil
	}
	return l.usage.leaseChanged(LeaseEvent{Change: c, Lease: x, At: at}, req)
}

// queueRecords queues records that no lease change carries (expiries) for
// the next commit.
func (l *Leases) queueRecords(recs []queuedRecord) pending {
	if len(recs) == 0 {
		return pending{}
	}
	return l.file.enqueue(fileOp{fn: noChange, usage: recs})
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

// holderFor is the index of h's holder, h itself unless the table has one
// for its token already, with one more reference. A holder without a
// token (a lease file's old record) is never shared.
func (l *Leases) holderFor(h *holder) int32 {
	shared := h.digest != ([sha256.Size]byte{})
	if i, ok := l.byDigest[h.digest]; ok && shared {
		l.holders.refs[i]++
		return i
	}
	i := l.holders.add(h)
	if shared {
		l.byDigest[h.digest] = i
	}
	return i
}

// dropHolder removes a reference to the holder i, forgetting it with the
// last.
func (l *Leases) dropHolder(i int32) {
	if l.holders.refs[i]--; l.holders.refs[i] == 0 {
		if j, ok := l.byDigest[l.holders.at(i).digest]; ok && j == i {
			delete(l.byDigest, l.holders.at(i).digest)
		}
		l.holders.remove(i)
	}
}

// appFor is the index of the application name app, with one more
// reference.
func (l *Leases) appFor(app string) int32 {
	if i, ok := l.byApp[app]; ok {
		l.apps.refs[i]++
		return i
	}
	i := l.apps.add(app)
	l.byApp[app] = i
	return i
}

// dropApp removes a reference to the application name i.
func (l *Leases) dropApp(i int32) {
	if l.apps.refs[i]--; l.apps.refs[i] == 0 {
		delete(l.byApp, l.apps.at(i))
		l.apps.remove(i)
	}
}

func (l *Leases) view(x *lease) Lease {
	return x.view(l.apps.at(x.app))
}

func (x *lease) view(app string) Lease {
	v := Lease{ID: x.id.String(), Application: app, Remote: unpackAddr(x.remote, x.hasIP).String(), Expiry: time.Unix(0, x.expiry).UTC()}
	if x.acquired != 0 {
		v.Acquired = time.Unix(0, x.acquired).UTC()
	}
	return v
}

func (l *Leases) endedView(id leaseID, e endedLease) Lease {
	return Lease{ID: id.String(), Application: l.apps.at(e.app), Expiry: time.Unix(0, e.ended).UTC(), Released: e.released}
}

// putOp is the file change that writes x as it is now.
func (l *Leases) putOp(x *lease) fileOp {
	return fileOp{key: x.key, id: x.id, state: leaseState{holder: l.holders.at(x.holder), app: l.apps.at(x.app),
		remote: unpackAddr(x.remote, x.hasIP), acquired: x.acquired, expiry: x.expiry}}
}

// releasedOp is the file change that writes the ended lease id as
// released.
func (l *Leases) releasedOp(id leaseID, e endedLease) fileOp {
	return fileOp{key: e.key, id: id, state: leaseState{holder: l.holders.at(e.holder), app: l.apps.at(e.app), expiry: e.ended, released: true}}
}

// insert adds an active lease; it takes over x's references to its holder
// and application.
func (l *Leases) insert(x lease) int32 {
	var i int32
	if n := len(l.free); n > 0 {
		i, l.free = l.free[n-1], l.free[:n-1]
		l.slab[i] = x
	} else {
		i = int32(len(l.slab))
		l.slab = append(l.slab, x)
	}
	l.byID[x.id] = i
	l.slab[i].pos = int32(len(l.expiry))
	l.expiry = append(l.expiry, i)
	l.up(len(l.expiry) - 1)
	l.holders.at(x.holder).active++
	return i
}

// remove takes the active lease in slot i out of the active set and
// returns it, its references still held.
func (l *Leases) remove(i int32) lease {
	x := l.slab[i]
	delete(l.byID, x.id)
	last := len(l.expiry) - 1
	if p := int(x.pos); p != last {
		l.swap(p, last)
		l.expiry = l.expiry[:last]
		if !l.down(p) {
			l.up(p)
		}
	} else {
		l.expiry = l.expiry[:last]
	}
	l.slab[i] = lease{}
	l.free = append(l.free, i)
	l.holders.at(x.holder).active--
	return x
}

// end moves the active lease in slot i to the ended ones, at the time at.
func (l *Leases) end(i int32, at int64, released bool) {
	x := l.remove(i)
	l.ended[x.id] = endedLease{key: x.key, holder: x.holder, app: x.app, ended: at, released: released}
	l.order.push(x.id)
}

// forget drops an ended lease and its references, and returns its record
// number.
func (l *Leases) forget(id leaseID) uint64 {
	e := l.ended[id]
	delete(l.ended, id)
	l.dropHolder(e.holder)
	l.dropApp(e.app)
	return e.key
}

// Acquire records a new lease for app, held from remote until expiry, on
// the opened token tok; limit bounds the active leases one token may hold
// (a *tooManyLeasesError past it). It returns once the lease is durable.
func (l *Leases) Acquire(tok *tool.Token, app string, remote netip.Addr, expiry, now time.Time, limit int) (Lease, error) {
	return l.acquire(tok, app, remote, expiry, now, limit, nil)
}

// acquire is Acquire for a request whose decision req, when the lease is
// acquired, is recorded and committed with it.
func (l *Leases) acquire(tok *tool.Token, app string, remote netip.Addr, expiry, now time.Time, limit int, req *leaseRequest) (Lease, error) {
	x := lease{acquired: now.UnixNano(), expiry: expiry.UnixNano()}
	x.remote, x.hasIP = packAddr(remote)
	rand.Read(x.id[:])
	l.mu.Lock()
	l.sweep(now)
	if i, ok := l.byDigest[tok.Digest]; ok {
		if l.holders.at(i).active >= limit {
			l.mu.Unlock()
			return Lease{}, &tooManyLeasesError{limit: limit}
		}
		l.holders.refs[i]++
		x.holder = i
	} else {
		x.holder = l.holderFor(&holder{digest: tok.Digest, addresses: tok.Claims.Addresses, tokenExpiry: tok.Claims.Expiry.UnixNano()})
	}
	x.app = l.appFor(app)
	l.lastKey++
	x.key = l.lastKey
	i := l.insert(x)
	view := l.view(&l.slab[i])
	op := l.putOp(&l.slab[i])
	op.usage = l.notify(LeaseAcquired, view, now, req)
	pending := l.file.enqueue(op)
	l.mu.Unlock()
	if err := pending.wait(); err != nil {
		l.mu.Lock()
		if j, ok := l.byID[x.id]; ok {
			// Never acknowledged: as if never acquired.
			gone := l.remove(j)
			l.dropHolder(gone.holder)
			l.dropApp(gone.app)
		}
		l.mu.Unlock()
		return Lease{}, fmt.Errorf("writing lease %s: %w", x.id, err)
	}
	return view, nil
}

// Renew extends a live lease by d from now, never past the expiry of the
// token it was acquired with; a token that has expired since (with the
// verifier's leeway) is refused with a *tool.CheckError. Only an address
// the token entitles may renew: from any other, the lease is not found.
func (l *Leases) Renew(id string, from netip.Addr, d time.Duration, now time.Time) (Lease, error) {
	return l.renewFor(id, from, d, now, nil)
}

// renewFor is Renew for a request whose decision req, when the lease is
// renewed, is recorded and committed with it.
func (l *Leases) renewFor(id string, from netip.Addr, d time.Duration, now time.Time, req *leaseRequest) (Lease, error) {
	return l.change(id, func(key leaseID) (Lease, pending, error) { return l.renew(key, from, d, now, req) })
}

// change makes the change fn of the lease id under the lock and waits,
// outside it, until the change is durable. An id that does not parse is
// an unknown lease.
func (l *Leases) change(id string, fn func(leaseID) (Lease, pending, error)) (Lease, error) {
	key, ok := parseLeaseID(id)
	if !ok {
		return Lease{}, errLeaseNotFound
	}
	l.mu.Lock()
	view, pending, err := fn(key)
	l.mu.Unlock()
	if err != nil {
		return view, err
	}
	if err := pending.wait(); err != nil {
		return view, fmt.Errorf("writing lease %s: %w", key, err)
	}
	return view, nil
}

// renew is Renew under the lock: the renewed lease and its change to the
// file, to wait for outside the lock.
func (l *Leases) renew(key leaseID, from netip.Addr, d time.Duration, now time.Time, req *leaseRequest) (Lease, pending, error) {
	l.sweep(now)
	i, ok := l.byID[key]
	if !ok {
		e, ok := l.ended[key]
		switch {
		case !ok || !l.holders.at(e.holder).entitles(from):
			return Lease{}, pending{}, errLeaseNotFound
		case e.released:
			return l.endedView(key, e), pending{}, errReleased
		default:
			return l.endedView(key, e), pending{}, errLeaseExpired
		}
	}
	x := &l.slab[i]
	h := l.holders.at(x.holder)
	if !h.entitles(from) {
		return Lease{}, pending{}, errLeaseNotFound
	}
	tokenExpiry := time.Unix(0, h.tokenExpiry)
	if !now.Add(-tool.Leeway).Before(tokenExpiry) {
		return l.view(x), pending{}, &tool.CheckError{Reason: tool.ReasonExpired, Msg: "the lease's token expired at " + tool.FormatTime(tokenExpiry)}
	}
	x.expiry = min(now.Add(d).UnixNano(), h.tokenExpiry)
	if p := int(x.pos); !l.down(p) {
		l.up(p)
	}
	view, op := l.view(x), l.putOp(x)
	op.usage = l.notify(LeaseRenewed, view, now, req)
	return view, l.file.enqueue(op), nil
}

// Release ends a lease. Releasing it again, or once it expired, is not an
// error; a late renewal hears errReleased. Only an address the token
// entitles may release: from any other, the lease is not found. It
// returns once the release is durable.
func (l *Leases) Release(id string, from netip.Addr, now time.Time) (Lease, error) {
	return l.releaseFor(id, from, now, nil)
}

// releaseFor is Release for a request whose decision req, when the lease
// is released, is recorded and committed with it.
func (l *Leases) releaseFor(id string, from netip.Addr, now time.Time, req *leaseRequest) (Lease, error) {
	return l.release(id, now, func(h *holder) bool { return h.entitles(from) }, req)
}

// Revoke releases a lease for the management API, whoever holds it.
func (l *Leases) Revoke(id string, now time.Time) (Lease, error) {
	return l.revokeFor(id, now, nil)
}

// revokeFor is Revoke for a request whose decision req, when the lease is
// revoked, is recorded and committed with it.
func (l *Leases) revokeFor(id string, now time.Time, req *leaseRequest) (Lease, error) {
	return l.release(id, now, func(*holder) bool { return true }, req)
}

func (l *Leases) release(id string, now time.Time, allowed func(*holder) bool, req *leaseRequest) (Lease, error) {
	return l.change(id, func(key leaseID) (Lease, pending, error) { return l.releaseLocked(key, now, allowed, req) })
}

// releaseLocked is release under the lock: the released lease and its
// change to the file, to wait for outside the lock. Only the release of
// an active lease is a change the usage record hears of.
func (l *Leases) releaseLocked(key leaseID, now time.Time, allowed func(*holder) bool, req *leaseRequest) (Lease, pending, error) {
	l.sweep(now)
	var recs []queuedRecord
	if i, ok := l.byID[key]; ok {
		if !allowed(l.holders.at(l.slab[i].holder)) {
			return Lease{}, pending{}, errLeaseNotFound
		}
		x := l.view(&l.slab[i])
		l.end(i, now.UnixNano(), true)
		x.Released = true
		recs = l.notify(LeaseReleased, x, now, req)
	} else {
		e, ok := l.ended[key]
		switch {
		case !ok || !allowed(l.holders.at(e.holder)):
			return Lease{}, pending{}, errLeaseNotFound
		case e.released:
			return l.endedView(key, e), pending{}, nil
		}
		e.released = true
		l.ended[key] = e
	}
	e := l.ended[key]
	op := l.releasedOp(key, e)
	op.usage = recs
	return l.endedView(key, e), l.file.enqueue(op), nil
}

// Active lists up to limit leases that are neither released nor expired,
// soonest expiry first, and counts them all. It takes them from the expiry
// heap in O(limit log limit). A negative limit lists them all, sorted
// outside the lock.
func (l *Leases) Active(now time.Time, limit int) (list []Lease, total int) {
	if limit < 0 {
		return l.all(now)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	total = len(l.expiry)
	list = make([]Lease, 0, min(limit, total))
	// The heap's smallest are found by walking it from the root with a
	// second heap of the candidates: each step takes the smallest and
	// offers its two children.
	next := candidateHeap{l: l}
	if total > 0 {
		next.pos = append(next.pos, 0)
	}
	for len(list) < limit && len(next.pos) > 0 {
		p := heap.Pop(&next).(int)
		list = append(list, l.view(&l.slab[l.expiry[p]]))
		for _, c := range []int{2*p + 1, 2*p + 2} {
			if c < total {
				heap.Push(&next, c)
			}
		}
	}
	return list, total
}

// all lists every active lease: copied under the lock, sorted outside it.
func (l *Leases) all(now time.Time) ([]Lease, int) {
	l.mu.Lock()
	l.sweep(now)
	copies := make([]lease, len(l.expiry))
	apps := make([]string, len(l.expiry))
	for p, i := range l.expiry {
		copies[p] = l.slab[i]
		apps[p] = l.apps.at(l.slab[i].app)
	}
	l.mu.Unlock()
	list := make([]Lease, len(copies))
	for p := range copies {
		x := &copies[p]
		list[p] = x.view(apps[p])
	}
	slices.SortStableFunc(list, func(a, b Lease) int { return a.Expiry.Compare(b.Expiry) })
	return list, len(list)
}

// Len counts the leases remembered, active or ended.
func (l *Leases) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.byID) + len(l.ended)
}

// sweep ends the leases whose expiry has come, taking them from the top of
// the expiry heap (the usage record hears of each, in expiry order, and
// the pending returned is the commit of its records), and forgets the
// ended leases past endedRetention or maxEnded, oldest first; so its cost
// follows the number of leases that ended rather than the number held.
// Forgotten leases leave the file too, without waiting: one left behind by
// a crash is swept again on restart.
func (l *Leases) sweep(now time.Time) pending {
	n := now.UnixNano()
	var recs []queuedRecord
	for len(l.expiry) > 0 && l.slab[l.expiry[0]].expiry <= n {
		i := l.expiry[0]
		if l.usage != nil {
			x := l.view(&l.slab[i])
			recs = append(recs, l.notify(LeaseExpired, x, x.Expiry, nil)...)
		}
		l.end(i, l.slab[i].expiry, false)
	}
	expired := l.queueRecords(recs)
	cutoff := now.Add(-endedRetention).UnixNano()
	for l.order.len() > 0 {
		id := l.order.front()
		if l.order.len() <= maxEnded && l.ended[id].ended >= cutoff {
			break
		}
		l.order.pop()
		l.file.enqueue(fileOp{del: true, key: l.forget(id)})
	}
	return expired
}

// The expiry heap: positions p in l.expiry, each slot knowing its own.
func (l *Leases) less(p, q int) bool { return l.slab[l.expiry[p]].expiry < l.slab[l.expiry[q]].expiry }

func (l *Leases) swap(p, q int) {
	h := l.expiry
	h[p], h[q] = h[q], h[p]
	l.slab[h[p]].pos, l.slab[h[q]].pos = int32(p), int32(q)
}

func (l *Leases) up(p int) {
	for p > 0 {
		parent := (p - 1) / 2
		if !l.less(p, parent) {
			return
		}
		l.swap(p, parent)
		p = parent
	}
}

// down moves position p down as far as it goes and reports whether it
// moved.
func (l *Leases) down(p int) bool {
	start, n := p, len(l.expiry)
	for {
		c := 2*p + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && l.less(r, c) {
			c = r
		}
		if !l.less(c, p) {
			break
		}
		l.swap(p, c)
		p = c
	}
	return p > start
}

// candidateHeap orders positions of the expiry heap by their lease's
// expiry, for Active's walk.
type candidateHeap struct {
	l   *Leases
	pos []int
}

func (c candidateHeap) Len() int           { return len(c.pos) }
func (c candidateHeap) Less(i, j int) bool { return c.l.less(c.pos[i], c.pos[j]) }
func (c candidateHeap) Swap(i, j int)      { c.pos[i], c.pos[j] = c.pos[j], c.pos[i] }
func (c *candidateHeap) Push(x any)        { c.pos = append(c.pos, x.(int)) }
func (c *candidateHeap) Pop() any {
	p := c.pos[len(c.pos)-1]
	c.pos = c.pos[:len(c.pos)-1]
	return p
}

// table is a slab of shared values (holders, application names) that
// leases refer to by index, with a count of references per value: add
// makes one with one reference.
type table[T any] struct {
	values []T
	refs   []int
	free   []int32
}

func (t *table[T]) at(i int32) T { return t.values[i] }

func (t *table[T]) add(v T) int32 {
	if n := len(t.free); n > 0 {
		i := t.free[n-1]
		t.free = t.free[:n-1]
		t.values[i], t.refs[i] = v, 1
		return i
	}
	t.values, t.refs = append(t.values, v), append(t.refs, 1)
	return int32(len(t.values) - 1)
}

func (t *table[T]) remove(i int32) {
	var zero T
	t.values[i] = zero
	t.free = append(t.free, i)
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
