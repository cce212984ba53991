package server

import (
	"container/heap"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Lease is one acquired entitlement of the leasing api-version.
type Lease struct {
	ID          string    `json:"id"`
	Application string    `json:"app"`
	Remote      string    `json:"remote"`
	TokenID     string    `json:"tokenId"`
	TokenExpiry time.Time `json:"tokenExpiry"`
	Expiry      time.Time `json:"expiry"`
	Released    bool      `json:"released,omitempty"`
}

// Outcomes of a renewal or release that are not a success.
var (
	errLeaseNotFound = errors.New("no such entitlement")
	errReleased      = errors.New("entitlement already released")
	errLeaseExpired  = errors.New("entitlement lease expired")
)

// leaseRetention is how long an expired or released lease is remembered,
// so a late renewal hears 409 rather than 404.
const leaseRetention = time.Hour

// Leases holds the leases, in memory and, when a file is given, in a bbolt
// database that is written before a lease is acknowledged.
type Leases struct {
	mu     sync.Mutex
	byID   map[string]*Lease
	expiry expiryHeap
	db     *bolt.DB
}

var leaseBucket = []byte("leases")

// NewLeases returns an empty in-memory lease table.
func NewLeases() *Leases { return &Leases{byID: map[string]*Lease{}} }

// OpenLeases opens (or creates) a lease file and restores its leases.
func OpenLeases(path string) (*Leases, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("opening the lease file %s: %w", path, err)
	}
	l := NewLeases()
	l.db = db
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(leaseBucket)
		if err != nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			var lease Lease
			if err := json.Unmarshal(v, &lease); err != nil {
				return fmt.Errorf("lease %s: %w", k, err)
			}
			l.byID[lease.ID] = &lease
			heap.Push(&l.expiry, expiryItem{lease.ID, lease.Expiry})
			return nil
		})
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("reading the lease file %s: %w", path, err)
	}
	return l, nil
}

// Close closes the lease file, if any.
func (l *Leases) Close() error {
	if l.db == nil {
		return nil
	}
	return l.db.Close()
}

// newLeaseID returns 32 hex digits.
func newLeaseID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Acquire stores a new lease and returns it once it is durable.
func (l *Leases) Acquire(lease Lease, now time.Time) (Lease, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	lease.ID = newLeaseID()
	if err := l.save(&lease); err != nil {
		return Lease{}, err
	}
	l.byID[lease.ID] = &lease
	heap.Push(&l.expiry, expiryItem{lease.ID, lease.Expiry})
	return lease, nil
}

// Renew extends a live lease to expiry, computed from the lease by f, which
// may refuse.
func (l *Leases) Renew(id string, now time.Time, f func(Lease) (time.Time, error)) (Lease, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	lease, ok := l.byID[id]
	switch {
	case !ok:
		return Lease{}, errLeaseNotFound
	case lease.Released:
		return *lease, errReleased
	case !now.Before(lease.Expiry):
		return *lease, errLeaseExpired
	}
	expiry, err := f(*lease)
	if err != nil {
		return *lease, err
	}
	renewed := *lease
	renewed.Expiry = expiry
	if err := l.save(&renewed); err != nil {
		return *lease, err
	}
	*lease = renewed
	heap.Push(&l.expiry, expiryItem{id, expiry})
	return renewed, nil
}

// Release ends a lease; releasing it again is not an error.
func (l *Leases) Release(id string, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	lease, ok := l.byID[id]
	if !ok {
		return errLeaseNotFound
	}
	if lease.Released {
		return nil
	}
	released := *lease
	released.Released = true
	if err := l.save(&released); err != nil {
		return err
	}
	*lease = released
	return nil
}

// Active lists the leases that are neither released nor expired.
func (l *Leases) Active(now time.Time) []Lease {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	var out []Lease
	for _, lease := range l.byID {
		if !lease.Released && now.Before(lease.Expiry) {
			out = append(out, *lease)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Expiry.Before(out[j].Expiry) })
	return out
}

// Len counts the leases remembered, live or not.
func (l *Leases) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.byID)
}

func (l *Leases) save(lease *Lease) error {
	if l.db == nil {
		return nil
	}
	v, err := json.Marshal(lease)
	if err != nil {
		return err
	}
	return l.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(leaseBucket).Put([]byte(lease.ID), v)
	})
}

// sweep forgets leases whose expiry passed more than leaseRetention ago,
// taking them from the top of the expiry heap, so its cost follows the
// number of leases that ended rather than the number held.
func (l *Leases) sweep(now time.Time) {
	cutoff := now.Add(-leaseRetention)
	var gone [][]byte
	for l.expiry.Len() > 0 && l.expiry[0].at.Before(cutoff) {
		item := heap.Pop(&l.expiry).(expiryItem)
		lease, ok := l.byID[item.id]
		if !ok || !lease.Expiry.Equal(item.at) {
			continue // renewed since: a later item stands for it
		}
		delete(l.byID, item.id)
		gone = append(gone, []byte(item.id))
	}
	if l.db != nil && len(gone) > 0 {
		l.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(leaseBucket)
			for _, k := range gone {
				b.Delete(k)
			}
			return nil
		})
	}
}

type expiryItem struct {
	id string
	at time.Time
}

// expiryHeap is a min-heap of lease expiries.
type expiryHeap []expiryItem

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiryItem)) }
func (h *expiryHeap) Pop() any {
	old := *h
	item := old[len(old)-1]
	*h = old[:len(old)-1]
	return item
}
