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

// usageFile keeps records in the lease file's database.
type usageFile struct {
	db    *bolt.DB
	count int // records in the bucket
}

// openUsageFile makes the buckets if missing and reads the last record's
// number, how many there are, and how far expiries were recorded.
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
		f.count = b.Stats().KeyN
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

// write commits records, how far expiries are recorded, and drops the
// oldest records past keep (0: keep all), in one transaction.
func (f *usageFile) write(recs []UsageRecord, expiredThrough int64, keep int) error {
	added := 0
	err := f.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(usageBucket)
		for _, r := range recs {
			v, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if err := b.Put(usageKey(r.Seq), v); err != nil {
				return err
			}
		}
		added = len(recs)
		var through [8]byte
		binary.BigEndian.PutUint64(through[:], uint64(expiredThrough))
		if err := tx.Bucket(usageMetaBucket).Put(expiredThroughKey, through[:]); err != nil {
			return err
		}
		if over := f.count + added - keep; keep > 0 && over > 0 {
			var old [][]byte
			c := b.Cursor()
			for k, _ := c.First(); k != nil && len(old) < over; k, _ = c.Next() {
				old = append(old, k)
			}
			for _, k := range old {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			added -= len(old)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("writing the usage record to the state file: %w", err)
	}
	f.count += added
	return nil
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
		return nil
	})
	if err != nil {
		return nil, err
	}
	u.file, u.keep, u.seq, u.durable, u.expiredThrough = f, keep, last, last, through
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
				l, acquired := x.view(), x.view().Acquired
				switch {
				case x.released:
				case x.expiry > now.UnixNano():
					if acquired.IsZero() {
						acquired = now
					}
					if filter.keepsApp(l.Application) {
						tally.addActive(l.Application, appTally{active: 1, acquiredMs: acquired.UnixMilli()})
					}
				case x.expiry > through:
					if acquired.IsZero() {
						acquired = l.Expiry
					}
					r := UsageRecord{Time: l.Expiry, Event: UsageExpired, App: l.Application, Peer: l.Remote,
						Lease: leaseFingerprint(l.ID), Expiry: l.Expiry, HeldSeconds: heldSeconds(l.Expiry.Sub(acquired))}
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
