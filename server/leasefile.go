package server

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// leaseFile keeps leases in a bbolt database: one key per lease (its 16
// bytes), the value a small JSON record. Changes are queued in the order
// the lease table made them and written by one committer goroutine in
// group commits: each transaction takes every change queued while the one
// before it was being synced, so many requests share one fsync and none
// syncs under the lease table's lock. A caller that must not answer before
// its change is durable waits for its commit. A nil *leaseFile is the
// in-memory table's: it queues nothing. The usage record's entries ride
// on the changes they describe and are written in the same transaction.
type leaseFile struct {
	db *bolt.DB

	mu      sync.Mutex
	queue   *batch     // the changes the next commit takes
	usage   *usageFile // writes the records the changes carry; nil until the usage record opens
	closed  bool
	kick    chan struct{} // wakes the committer; closed by close
	stopped chan struct{} // closed when the committer has written all
}

var leaseBucket = []byte("leases")

// leaseRecord is a lease as stored in the file. A released lease's Expiry
// is when it was released. Records written before leases kept their token
// have no Token and no Addresses: their lease may be renewed from the
// address that acquired it.
type leaseRecord struct {
	Application string    `json:"app"`
	Remote      string    `json:"remote,omitempty"`
	Token       string    `json:"token,omitempty"` // hex SHA-256 of the token
	Addresses   []string  `json:"ip,omitempty"`    // the token's ip claim
	Acquired    time.Time `json:"acquired,omitzero"`
	TokenExpiry time.Time `json:"tokenExpiry"`
	Expiry      time.Time `json:"expiry"`
	Released    bool      `json:"released,omitempty"`
}

// fileOp is one change to the file: a lease's state to put, a lease to
// delete, or a function of another bucket's (Leases.Commit); and the
// usage record's entries that describe it, written with it.
type fileOp struct {
	id    leaseID
	state leaseState
	del   bool
	fn    func(*bolt.Tx) error
	usage []queuedRecord
}

// noChange is the function of an op that carries only usage records.
func noChange(*bolt.Tx) error { return nil }

// leaseState is a lease as a change puts it, copied under the lease
// table's lock; of its holder the file reads only what never changes.
type leaseState struct {
	holder   *holder
	app      string
	remote   netip.Addr
	acquired int64
	expiry   int64
	released bool
}

// batch is the changes one commit writes; done is closed once they are
// durable (or failed), errs[i] being the i-th change's outcome.
type batch struct {
	ops  []fileOp
	errs []error
	done chan struct{}
}

func newBatch() *batch { return &batch{done: make(chan struct{})} }

// pending is one queued change; the zero value is one that needs no wait.
type pending struct {
	b *batch
	i int
}

// wait returns once the change is durable, with its error.
func (p pending) wait() error {
	if p.b == nil {
		return nil
	}
	<-p.b.done
	return p.b.errs[p.i]
}

var errFileClosed = errors.New("the lease file is closed")

// restored is a lease read from the file.
type restored struct {
	id       leaseID
	holder   *holder
	app      string
	remote   netip.Addr
	acquired int64 // 0 when the record lacked it
	expiry   int64
	released bool
}

// openLeaseFile opens or creates the file at path and reads its leases.
func openLeaseFile(path string) (*leaseFile, []restored, error) {
	db, err := openStateDB(path, false)
	if err != nil {
		return nil, nil, err
	}
	var leases []restored
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(leaseBucket)
		if err != nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			x, err := decodeLease(k, v)
			if err != nil {
				return err
			}
			leases = append(leases, x)
			return nil
		})
	})
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	f := &leaseFile{db: db, queue: newBatch(), kick: make(chan struct{}, 1), stopped: make(chan struct{})}
	go f.commit()
	return f, leases, nil
}

func decodeLease(k, v []byte) (restored, error) {
	var x restored
	var r leaseRecord
	if len(k) != len(x.id) {
		return x, fmt.Errorf("lease key %x is not %d bytes", k, len(x.id))
	}
	copy(x.id[:], k)
	if err := json.Unmarshal(v, &r); err != nil {
		return x, fmt.Errorf("lease %x: %w", k, err)
	}
	if r.Remote != "" {
		remote, err := netip.ParseAddr(r.Remote)
		if err != nil {
			return x, fmt.Errorf("lease %x: %w", k, err)
		}
		x.remote = remote
	}
	h := &holder{addresses: r.Addresses, tokenExpiry: r.TokenExpiry.UnixNano()}
	if r.Token != "" {
		digest, err := hex.DecodeString(r.Token)
		if err != nil || len(digest) != sha256.Size {
			return x, fmt.Errorf("lease %x: token digest %q is not %d hex bytes", k, r.Token, sha256.Size)
		}
		copy(h.digest[:], digest)
	} else if x.remote.IsValid() {
		h.addresses = []string{x.remote.String()}
	}
	x.holder, x.app, x.released = h, r.Application, r.Released
	x.expiry = r.Expiry.UnixNano()
	if !r.Acquired.IsZero() {
		x.acquired = r.Acquired.UnixNano()
	}
	return x, nil
}

func (op *fileOp) record() leaseRecord {
	s := op.state
	r := leaseRecord{
		Application: s.app, Addresses: s.holder.addresses,
		TokenExpiry: time.Unix(0, s.holder.tokenExpiry).UTC(), Expiry: time.Unix(0, s.expiry).UTC(), Released: s.released,
	}
	if s.remote.IsValid() {
		r.Remote = s.remote.String()
	}
	if s.acquired != 0 {
		r.Acquired = time.Unix(0, s.acquired).UTC()
	}
	if s.holder.digest != ([sha256.Size]byte{}) {
		r.Token = hex.EncodeToString(s.holder.digest[:])
	}
	return r
}

// enqueue queues a change for the next commit. The lease table calls it
// under its lock, so the file sees the changes in the table's order.
func (f *leaseFile) enqueue(op fileOp) pending {
	if f == nil {
		return pending{}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		b := &batch{ops: []fileOp{op}, errs: []error{errFileClosed}, done: make(chan struct{})}
		f.usage.committed(b, nil)
		close(b.done)
		return pending{b: b}
	}
	b := f.queue
	b.ops = append(b.ops, op)
	select {
	case f.kick <- struct{}{}:
	default: // already woken
	}
	return pending{b: b, i: len(b.ops) - 1}
}

// commit is the committer: it writes the queued changes, a batch per
// transaction, until the file is closed and nothing is left.
func (f *leaseFile) commit() {
	defer close(f.stopped)
	for range f.kick {
		for {
			f.mu.Lock()
			b, usage := f.queue, f.usage
			empty := len(b.ops) == 0
			if !empty {
				f.queue = newBatch()
			}
			f.mu.Unlock()
			if empty {
				break
			}
			f.write(b, usage)
		}
	}
}

// write commits a batch in one transaction, with the usage records its
// changes carry. A function of Leases.Commit that fails is left out and
// the others written again without it.
func (f *leaseFile) write(b *batch, usage *usageFile) {
	b.errs = make([]error, len(b.ops))
	values := make([][]byte, len(b.ops))
	for i := range b.ops {
		if op := &b.ops[i]; !op.del && op.fn == nil {
			values[i], b.errs[i] = json.Marshal(op.record())
		}
	}
	records := usage.prepare(b)
	for {
		failed := -1
		err := f.db.Update(func(tx *bolt.Tx) error {
			leases := tx.Bucket(leaseBucket)
			for i := range b.ops {
				op := &b.ops[i]
				var err error
				switch {
				case b.errs[i] != nil:
					continue
				case op.fn != nil:
					if err = op.fn(tx); err != nil {
						failed = i
						return err
					}
				case op.del:
					err = leases.Delete(op.id[:])
				default:
					err = leases.Put(op.id[:], values[i])
				}
				if err != nil {
					return err
				}
			}
			return records.put(tx, b)
		})
		switch {
		case err != nil && failed >= 0:
			b.errs[failed] = err
			continue
		case err != nil:
			for i := range b.errs {
				if b.errs[i] == nil {
					b.errs[i] = fmt.Errorf("writing the lease file: %w", err)
				}
			}
		}
		break
	}
	usage.committed(b, records)
	close(b.done)
}

// close writes what is queued and closes the database.
func (f *leaseFile) close() error {
	f.mu.Lock()
	if !f.closed {
		f.closed = true
		close(f.kick)
	}
	f.mu.Unlock()
	<-f.stopped
	return f.db.Close()
}
