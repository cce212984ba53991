package server

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The usage record's buckets in the --state database, beside the leases:
// one key per record (its number, 8 bytes big-endian, so keys sort in the
// order the records were made), the value the record as JSON; and the
// record's own facts.
var (
	usageBucket       = []byte("usage")
	usageMetaBucket   = []byte("usage-meta")
	expiredThroughKey = []byte("expired-through")
)

// usageFile keeps records in the lease file's database, written by the
// lease file's committer with the changes that carry them.
type usageFile struct {
	db     *bolt.DB
	leases *leaseFile
	u      *Usage
	keep   int // records the bucket keeps at most; 0: all
	count  int // records in the bucket; only the committer changes it
}

// openUsageFile makes the buckets if missing and reads the last record's
// number and how far expiries were recorded (OpenUsage counts the records
// as it reads them).
func openUsageFile(db *bolt.DB) (f *usageFile, last uint64, expiredThrough int64, err error) {
	f = &usageFile{db: db}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(usageBucket)
		if err != nil {
			return err
		}
		meta, err := tx.CreateBucketIfNotExists(usageMetaBucket)
		if err != nil {
			return err
		}
		if k, _ := b.Cursor().Last(); k != nil {
			if len(k) != 8 {
				return fmt.Errorf("usage record key %x is not 8 bytes", k)
			}
			last = binary.BigEndian.Uint64(k)
		}
		if v := meta.Get(expiredThroughKey); v != nil {
			if len(v) != 8 {
				return fmt.Errorf("usage record: %s is %d bytes, not 8", expiredThroughKey, len(v))
			}
			expiredThrough = int64(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	return f, last, expiredThrough, err
}

// usageBatch is the usage records of one batch of the lease file,
// numbered and encoded before its transaction.
type usageBatch struct {
	f       *usageFile
	values  [][][]byte // per op of the batch, its records' JSON
	through int64      // the last expiry among them; 0 for none
	added   int        // records the last put left in the bucket, beyond count
}

// prepare numbers the records the batch's changes carry and encodes them.
func (f *usageFile) prepare(b *batch) *usageBatch {
	if f == nil {
		return nil
	}
	ub := &usageBatch{f: f, values: make([][][]byte, len(b.ops))}
	f.u.mu.Lock()
	for i := range b.ops {
		for j := range b.ops[i].usage {
			f.u.number(&b.ops[i].usage[j].UsageRecord)
		}
	}
	f.u.mu.Unlock()
	for i := range b.ops {
		for _, q := range b.ops[i].usage {
			ub.values[i] = append(ub.values[i], appendUsageRecord(make([]byte, 0, 256), &q.UsageRecord))
			ub.through = max(ub.through, q.expired)
		}
	}
	return ub
}

// put writes the records of the batch's changes that are being written
// (those that did not fail alone), how far expiries are recorded, and
// drops the oldest records past keep, in the batch's transaction.
func (ub *usageBatch) put(tx *bolt.Tx, b *batch) error {
	if ub == nil {
		return nil
	}
	bucket := tx.Bucket(usageBucket)
	added := 0
	for i := range b.ops {
		if b.errs[i] != nil {
			continue
		}
		for j, q := range b.ops[i].usage {
			if err := bucket.Put(usageKey(q.Seq), ub.values[i][j]); err != nil {
				return fmt.Errorf("writing the usage record: %w", err)
			}
			added++
		}
	}
	if added == 0 {
		ub.added = 0
		return nil
	}
	if ub.through != 0 {
		meta := tx.Bucket(usageMetaBucket)
		if v := meta.Get(expiredThroughKey); len(v) != 8 || int64(binary.BigEndian.Uint64(v)) < ub.through {
			var through [8]byte
			binary.BigEndian.PutUint64(through[:], uint64(ub.through))
			if err := meta.Put(expiredThroughKey, through[:]); err != nil {
				return fmt.Errorf("writing the usage record: %w", err)
			}
		}
	}
	if over := ub.f.count + added - ub.f.keep; ub.f.keep > 0 && over > 0 {
		var old [][]byte
		c := bucket.Cursor()
		for k, _ := c.First(); k != nil && len(old) < over; k, _ = c.Next() {
			old = append(old, k)
		}
		for _, k := range old {
			if err := bucket.Delete(k); err != nil {
				return fmt.Errorf("writing the usage record: %w", err)
			}
		}
		added -= len(old)
	}
	ub.added = added
	return nil
}

// committed keeps in memory the records of the batch once its transaction
// is over (or failed to begin, ub nil): all of a change that was
// committed, and of one that failed those that are not provisional.
func (f *usageFile) committed(b *batch, ub *usageBatch) {
	if f == nil {
		return
	}
	f.u.mu.Lock()
	defer f.u.mu.Unlock()
	written := false
	for i := range b.ops {
		ok := b.errs[i] == nil
		written = written || (ok && len(b.ops[i].usage) > 0)
		for _, q := range b.ops[i].usage {
			if ok || !q.provisional {
				if q.Seq == 0 {
					f.u.number(&q.UsageRecord)
				}
				f.u.keepLocked(q)
			}
		}
	}
	if written && ub != nil {
		f.count += ub.added
	}
}

func usageKey(seq uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k[:]
}

// each calls fn for every record in the file, oldest first.
func (f *usageFile) each(fn func(UsageRecord) error) error {
	return f.db.View(func(tx *bolt.Tx) error { return eachUsageRecord(tx, fn) })
}

// eachUsageRecord reads the records of a transaction; a database without
// them has none.
func eachUsageRecord(tx *bolt.Tx, fn func(UsageRecord) error) error {
	b := tx.Bucket(usageBucket)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		r, err := decodeUsageRecord(k, v)
		if err != nil {
			return err
		}
		return fn(r)
	})
}

// decodeUsageRecord reads one record of the file.
func decodeUsageRecord(k, v []byte) (UsageRecord, error) {
	var r UsageRecord
	if len(k) != 8 {
		return r, fmt.Errorf("usage record key %x is not 8 bytes", k)
	}
	if err := json.Unmarshal(v, &r); err != nil {
		return r, fmt.Errorf("usage record %d: %w", binary.BigEndian.Uint64(k), err)
	}
	if r.Seq != binary.BigEndian.Uint64(k) {
		return r, fmt.Errorf("usage record %d says it is record %d", binary.BigEndian.Uint64(k), r.Seq)
	}
	return r, r.validate()
}

// OpenUsage returns the usage record of at most size records in memory,
// kept also in the lease file of leases when it has one (at most keep
// records there; 0: all), and its sums made from the records already
// there. The leases are observed by the handler that takes the record.
func OpenUsage(leases *Leases, size, keep int, now time.Time) (*Usage, error) {
	u := NewUsage(size, now)
	db := leases.DB()
	if db == nil {
		return u, nil
	}
	f, last, through, err := openUsageFile(db)
	if err != nil {
		return nil, err
	}
	err = f.each(func(r UsageRecord) error {
		u.push(r)
		u.tally.record(r)
		f.count++
		return nil
	})
	if err != nil {
		return nil, err
	}
	f.leases, f.u, f.keep = leases.file, u, keep
	u.file, u.seq, u.expiredThrough = f, last, through
	leases.file.mu.Lock()
	leases.file.usage = f
	leases.file.mu.Unlock()
	return u, nil
}

// ReadUsageState reads the usage record of a --state file that no server
// holds: the records filter picks, oldest first, and their sums with the
// leases active at now. A lease whose expiry came since a server last
// recorded one is there as expired (record number 0), as the next server
// on the file will record it.
func ReadUsageState(path string, filter UsageFilter, now time.Time) (rep UsageReport, err error) {
	err = readState(path, func() error {
		db, err := openStateDB(path, true)
		if err != nil {
			return err
		}
		defer db.Close()
		tally := newUsageTally(time.UnixMilli(0))
		err = db.View(func(tx *bolt.Tx) error {
			var through int64
			if meta := tx.Bucket(usageMetaBucket); meta != nil {
				if v := meta.Get(expiredThroughKey); len(v) == 8 {
					through = int64(binary.BigEndian.Uint64(v))
				}
			}
			err := eachUsageRecord(tx, func(r UsageRecord) error {
				if filter.Keep(r) {
					rep.Records = append(rep.Records, r)
					tally.record(r)
				}
				return nil
			})
			if err != nil {
				return err
			}
			b := tx.Bucket(leaseBucket)
			if b == nil {
				return nil
			}
			var expired []UsageRecord
			err = b.ForEach(func(k, v []byte) error {
				x, err := decodeLease(k, v)
				if err != nil {
					return err
				}
				acquired, expiry := time.Time{}, time.Unix(0, x.expiry).UTC()
				if x.acquired != 0 {
					acquired = time.Unix(0, x.acquired).UTC()
				}
				switch {
				case x.released:
				case x.expiry > now.UnixNano():
					if acquired.IsZero() {
						acquired = now
					}
					if filter.keepsApp(x.app) {
						tally.addActive(x.app, appTally{active: 1, acquiredMs: acquired.UnixMilli()})
					}
				case x.expiry > through:
					if acquired.IsZero() {
						acquired = expiry
					}
					r := UsageRecord{Time: expiry, Event: UsageExpired, App: x.app, Peer: x.remote,
						Lease: Lease{ID: x.id.String()}.Fingerprint(), Expiry: expiry, HeldSeconds: heldSeconds(expiry.Sub(acquired))}
					if filter.Keep(r) {
						expired = append(expired, r)
						tally.record(r)
					}
				}
				return nil
			})
			slices.SortFunc(expired, func(a, b UsageRecord) int { return a.Time.Compare(b.Time) })
			rep.Records = append(rep.Records, expired...)
			return err
		})
		rep.Summary, rep.Totals = tally.summary(now)
		return err
	})
	return rep, err
}
