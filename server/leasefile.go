package server

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"time"
	"unique"

	bolt "go.etcd.io/bbolt"
)

// leaseFile keeps leases in a bbolt database: one key per lease (its 16
// bytes), the value a small JSON record. Every write is committed (and
// synced) before the caller answers, so an acknowledged lease survives a
// crash. A nil *leaseFile is the in-memory table's: its methods do nothing.
type leaseFile struct {
	db *bolt.DB
}

var leaseBucket = []byte("leases")

// leaseRecord is a lease as stored in the file.
type leaseRecord struct {
	Application string    `json:"app"`
	Remote      string    `json:"remote"`
	Acquired    time.Time `json:"acquired,omitzero"`
	TokenExpiry time.Time `json:"tokenExpiry"`
	Expiry      time.Time `json:"expiry"`
	Released    bool      `json:"released,omitempty"`
}

// openLeaseFile opens or creates the file at path and reads its leases.
func openLeaseFile(path string) (*leaseFile, []*lease, error) {
	db, err := openStateDB(path, false)
	if err != nil {
		return nil, nil, err
	}
	var leases []*lease
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
	return &leaseFile{db: db}, leases, nil
}

func decodeLease(k, v []byte) (*lease, error) {
	var x lease
	var r leaseRecord
	if len(k) != len(x.id) {
		return nil, fmt.Errorf("lease key %x is not %d bytes", k, len(x.id))
	}
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("lease %x: %w", k, err)
	}
	if r.Remote != "" {
		remote, err := netip.ParseAddr(r.Remote)
		if err != nil {
			return nil, fmt.Errorf("lease %x: %w", k, err)
		}
		x.remote = remote
	}
	copy(x.id[:], k)
	x.app, x.released = unique.Make(r.Application), r.Released
	x.tokenExpiry, x.expiry = r.TokenExpiry.UnixNano(), r.Expiry.UnixNano()
	if !r.Acquired.IsZero() {
		x.acquired = r.Acquired.UnixNano()
	}
	return &x, nil
}

func (f *leaseFile) put(x *lease) error {
	if f == nil {
		return nil
	}
	r := leaseRecord{
		Application: x.app.Value(),
		TokenExpiry: time.Unix(0, x.tokenExpiry).UTC(), Expiry: time.Unix(0, x.expiry).UTC(), Released: x.released,
	}
	if x.remote.IsValid() {
		r.Remote = x.remote.String()
	}
	if x.acquired != 0 {
		r.Acquired = time.Unix(0, x.acquired).UTC()
	}
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	err = f.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(leaseBucket).Put(x.id[:], v) })
	if err != nil {
		return fmt.Errorf("writing lease %s to the lease file: %w", x.id, err)
	}
	return nil
}

func (f *leaseFile) delete(ids []leaseID) {
	if f == nil || len(ids) == 0 {
		return
	}
	f.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(leaseBucket)
		for _, id := range ids {
			b.Delete(id[:])
		}
		return nil
	})
}

func (f *leaseFile) close() error { return f.db.Close() }
