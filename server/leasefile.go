package server

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// leaseFile keeps leases in a bbolt database: one record per lease, keyed
// by its record number (8 bytes, big-endian, given in the order of
// acquisition) so that the leases acquired together, and most changes of a
// busy moment, touch the same few pages; the value is a small binary
// record (appendRecord). Changes are queued in the order
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

	buf []byte // the committer's, for the keys and values of a batch
}

var leaseBucket = []byte("leases")

// jsonRecord is a lease as files written before the binary records stored
// it, under its 16-byte id: read once, and rewritten as a binary record,
// when such a file is opened. A released lease's Expiry is when it was
// released. Records written before leases kept their token have no Token
// and no Addresses: their lease may be renewed from the address that
// acquired it.
type jsonRecord struct {
	Application string    `json:"app"`
	Remote      string    `json:"remote,omitempty"`
	Token       string    `json:"token,omitempty"` // hex SHA-256 of the token
	Addresses   []string  `json:"ip,omitempty"`    // the token's ip claim
	TokenExpiry time.Time `json:"tokenExpiry"`
	Expiry      time.Time `json:"expiry"`
	Released    bool      `json:"released,omitempty"`
}

// fileOp is one change to the file: a lease's state to put, a lease to
// delete, or a function of another bucket's (Leases.Commit); and the
// usage record's entries that describe it, written with it. A lease's
// record is at key.
type fileOp struct {
	key   uint64
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
	key      uint64
	id       leaseID
	holder   *holder
	app      string
	remote   netip.Addr
	acquired int64 // 0 when the record lacked it
	expiry   int64
	released bool
}

// openLeaseFile opens or creates the file at path and reads its leases,
// rewriting the records of an older file as binary ones.
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
		var old [][]byte
		err = b.ForEach(func(k, v []byte) error {
			x, err := decodeLease(k, v)
			if err != nil {
				return err
			}
			if x.key == 0 {
				old = append(old, k)
			}
			leases = append(leases, x)
			return nil
		})
		if err != nil || len(old) == 0 {
			return err
		}
		// The JSON records get the numbers after the last binary one.
		next := uint64(0)
		for _, x := range leases {
			next = max(next, x.key)
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		for i := range leases {
			x := &leases[i]
			if x.key != 0 {
				continue
			}
			next++
			x.key = next
			op := fileOp{key: x.key, id: x.id, state: leaseState{holder: x.holder, app: x.app, remote: x.remote, expiry: x.expiry, released: x.released}}
			if err := b.Put(binary.BigEndian.AppendUint64(nil, x.key), op.appendRecord(nil)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	f := &leaseFile{db: db, queue: newBatch(), kick: make(chan struct{}, 1), stopped: make(chan struct{})}
	go f.commit()
	return f, leases, nil
}

// The binary record of a lease: a version byte, flags, the lease id, its
// expiry and its token's (Unix nanoseconds, big-endian), when the flags
// say so the time it was acquired (records written before leases kept it
// lack it), the acquiring address and the token's digest, then the
// application and the token's addresses, each as a uvarint length and its
// bytes (the addresses after their count). A released lease's expiry is
// when it was released.
const (
	recordVersion = 1

	recordReleased  = 1 << 0
	recordHasRemote = 1 << 1
	recordHasDigest = 1 << 2
	recordAcquired  = 1 << 3
)

// appendRecord appends the binary record of op's lease to b.
func (op *fileOp) appendRecord(b []byte) []byte {
	s := op.state
	var flags byte
	if s.released {
		flags |= recordReleased
	}
	if s.remote.IsValid() {
		flags |= recordHasRemote
	}
	hasDigest := s.holder.digest != ([sha256.Size]byte{})
	if hasDigest {
		flags |= recordHasDigest
	}
	if s.acquired != 0 {
		flags |= recordAcquired
	}
	b = append(b, recordVersion, flags)
	b = append(b, op.id[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(s.expiry))
	b = binary.BigEndian.AppendUint64(b, uint64(s.holder.tokenExpiry))
	if s.acquired != 0 {
		b = binary.BigEndian.AppendUint64(b, uint64(s.acquired))
	}
	if s.remote.IsValid() {
		r := s.remote.As16()
		b = append(b, r[:]...)
	}
	if hasDigest {
		b = append(b, s.holder.digest[:]...)
	}
	b = binary.AppendUvarint(b, uint64(len(s.app)))
	b = append(b, s.app...)
	b = binary.AppendUvarint(b, uint64(len(s.holder.addresses)))
	for _, a := range s.holder.addresses {
		b = binary.AppendUvarint(b, uint64(len(a)))
		b = append(b, a...)
	}
	return b
}

// decodeLease reads the lease of key k: a binary record under its record
// number, or the JSON record of an older file under its lease id (whose
// key is then 0).
func decodeLease(k, v []byte) (restored, error) {
	switch len(k) {
	case 8:
		x, err := decodeRecord(v)
		x.key = binary.BigEndian.Uint64(k)
		return x, err
	case len(leaseID{}):
		return decodeJSONRecord(k, v)
	default:
		return restored{}, fmt.Errorf("lease key %x is neither a record number nor a lease id", k)
	}
}

// decodeRecord reads a binary record. The key is the caller's.
func decodeRecord(v []byte) (restored, error) {
	var x restored
	r := recordReader{b: v}
	if version := r.byte(); version != recordVersion {
		return x, fmt.Errorf("lease record of version %d, want %d", version, recordVersion)
	}
	flags := r.byte()
	copy(x.id[:], r.bytes(len(x.id)))
	x.expiry = int64(r.uint64())
	h := &holder{tokenExpiry: int64(r.uint64())}
	if flags&recordAcquired != 0 {
		x.acquired = int64(r.uint64())
	}
	if flags&recordHasRemote != 0 {
		x.remote = netip.AddrFrom16([16]byte(r.bytes(16))).Unmap()
	}
	if flags&recordHasDigest != 0 {
		copy(h.digest[:], r.bytes(sha256.Size))
	}
	x.app = string(r.bytes(r.length()))
	if n := r.length(); r.err == nil {
		h.addresses = make([]string, n)
		for i := range h.addresses {
			h.addresses[i] = string(r.bytes(r.length()))
		}
	}
	switch {
	case r.err != nil:
		return x, fmt.Errorf("lease record %x: %w", v, r.err)
	case len(r.b) != 0:
		return x, fmt.Errorf("lease record %x: %d bytes after its end", v, len(r.b))
	case flags&^(recordReleased|recordHasRemote|recordHasDigest|recordAcquired) != 0:
		return x, fmt.Errorf("lease record %x: unknown flags %#x", v, flags)
	}
	x.holder, x.released = h, flags&recordReleased != 0
	return x, nil
}

// recordReader reads a binary record, remembering the first shortfall.
type recordReader struct {
	b   []byte
	err error
}

var errShortRecord = errors.New("the record ends early")

func (r *recordReader) bytes(n int) []byte {
	if r.err != nil || n > len(r.b) {
		r.err = errShortRecord
		return make([]byte, n)
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *recordReader) byte() byte     { return r.bytes(1)[0] }
func (r *recordReader) uint64() uint64 { return binary.BigEndian.Uint64(r.bytes(8)) }

// length reads a uvarint length, which a record's size bounds.
func (r *recordReader) length() int {
	n, k := binary.Uvarint(r.b)
	if r.err == nil && (k <= 0 || n > uint64(len(r.b))) {
		r.err = errShortRecord
	}
	if r.err != nil {
		return 0
	}
	r.b = r.b[k:]
	return int(n)
}

// decodeJSONRecord reads a record of an older file, under the lease id k.
func decodeJSONRecord(k, v []byte) (restored, error) {
	var x restored
	var r jsonRecord
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
	return x, nil
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
	// The keys and values of the batch, in one buffer that stays untouched
	// until the transaction is over (as bbolt asks).
	buf := f.buf[:0]
	at := make([]int, len(b.ops)+1)
	for i := range b.ops {
		if op := &b.ops[i]; op.fn == nil {
			buf = binary.BigEndian.AppendUint64(buf, op.key)
			if !op.del {
				buf = op.appendRecord(buf)
			}
		}
		at[i+1] = len(buf)
	}
	f.buf = buf
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
					err = leases.Delete(buf[at[i] : at[i]+8])
				default:
					err = leases.Put(buf[at[i]:at[i]+8], buf[at[i]+8:at[i+1]])
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
