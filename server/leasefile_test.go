package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/netip"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestRecordRoundTrip(t *testing.T) {
	digest := sha256.Sum256([]byte("token"))
	now := time.Now().UnixNano()
	for _, x := range []restored{
		{holder: &holder{digest: digest, addresses: []string{"10.0.0.1"}, tokenExpiry: now + 1}, app: "contosoapp", remote: netip.MustParseAddr("10.0.0.1"), acquired: now - 5, expiry: now},
		{holder: &holder{digest: digest, addresses: []string{"10.0.0.1", "2001:db8::1", ""}, tokenExpiry: now}, app: "", remote: netip.MustParseAddr("2001:db8::1"), expiry: -1, released: true},
		{holder: &holder{addresses: []string{}}, app: "é" + string(make([]byte, 300))},
	} {
		x.id = leaseID{1, 2, 3, 15: 16}
		op := fileOp{id: x.id, state: leaseState{holder: x.holder, app: x.app, remote: x.remote, acquired: x.acquired, expiry: x.expiry, released: x.released}}
		rec := op.appendRecord([]byte("prefix"))
		if !bytes.HasPrefix(rec, []byte("prefix")) {
			t.Fatalf("appendRecord did not append: %x", rec)
		}
		got, err := decodeRecord(rec[len("prefix"):])
		if err != nil {
			t.Fatalf("%+v: %v", x, err)
		}
		if !reflect.DeepEqual(got, x) || !reflect.DeepEqual(got.holder, x.holder) {
			t.Errorf("read back %+v %+v, want %+v %+v", got, got.holder, x, x.holder)
		}
		for n := range len(rec) - len("prefix") {
			if _, err := decodeRecord(rec[len("prefix") : len("prefix")+n]); err == nil {
				t.Fatalf("the record cut to %d bytes was read", n)
			}
		}
		if _, err := decodeRecord(append(rec[len("prefix"):], 0)); err == nil {
			t.Errorf("a record with a byte after its end was read")
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	op := fileOp{id: leaseID{9}, state: leaseState{holder: &holder{digest: [32]byte{1}, addresses: []string{"10.0.0.1"}, tokenExpiry: 7},
		app: "contosoapp", remote: netip.MustParseAddr("10.0.0.1"), acquired: 3, expiry: 5, released: true}}
	f.Add(op.appendRecord(nil))
	f.Add([]byte{recordVersion, 0, 15: 0, 31: 0, 32: 0, 33: 0})
	f.Add([]byte{recordVersion, 0xff})
	f.Fuzz(func(t *testing.T, v []byte) {
		x, err := decodeRecord(v)
		if err != nil {
			return
		}
		again, err := decodeRecord((&fileOp{id: x.id, state: leaseState{holder: x.holder, app: x.app, remote: x.remote, acquired: x.acquired, expiry: x.expiry, released: x.released}}).appendRecord(nil))
		if err != nil || !reflect.DeepEqual(again, x) {
			t.Fatalf("%x read as %+v, written and read again as %+v (%v)", v, x, again, err)
		}
	})
}

// TestLeaseFileKeysInAcquisitionOrder checks the records' keys: numbers
// in the order the leases were acquired, each record naming its lease.
func TestLeaseFileKeysInAcquisitionOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leases.db")
	l, err := OpenLeases(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	remote := netip.MustParseAddr("10.0.0.1")
	tok := leaseToken(now.Add(2*time.Hour), "10.0.0.1")
	var ids []string
	for range 5 {
		x, err := l.Acquire(tok, "contosoapp", remote, now.Add(time.Hour), now, 100)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, x.ID)
	}
	l.Release(ids[1], remote, now)
	var got []string
	l.DB().View(func(tx *bolt.Tx) error {
		return tx.Bucket(leaseBucket).ForEach(func(k, v []byte) error {
			x, err := decodeRecord(v)
			if len(k) != 8 || err != nil {
				t.Errorf("record %x: %x (%v)", k, v, err)
			}
			got = append(got, x.id.String())
			return nil
		})
	})
	l.Close()
	if !reflect.DeepEqual(got, ids) {
		t.Errorf("records in key order: %v, want the leases in acquisition order %v", got, ids)
	}
	l, err = OpenLeases(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	x, err := l.Acquire(tok, "contosoapp", remote, now.Add(time.Hour), now, 100)
	if err != nil {
		t.Fatal(err)
	}
	l.DB().View(func(tx *bolt.Tx) error {
		k, v := tx.Bucket(leaseBucket).Cursor().Last()
		if r, _ := decodeRecord(v); binary.BigEndian.Uint64(k) != 6 || r.id.String() != x.ID {
			t.Errorf("after a restart the next lease is record %x, %s; want record 6, %s", k, r.id, x.ID)
		}
		return nil
	})
}

// TestLeaseFileReadsJSONRecords opens a file of the JSON records older
// servers wrote, one from before leases kept their token among them, and
// checks that its leases are restored and rewritten as binary records.
func TestLeaseFileReadsJSONRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leases.db")
	now := time.Now().Truncate(time.Second).UTC()
	digest := sha256.Sum256([]byte("token"))
	ids := []leaseID{{1}, {2}, {3}}
	records := []jsonRecord{
		{Application: "contosoapp", Remote: "10.0.0.1", Token: hex.EncodeToString(digest[:]), Addresses: []string{"10.0.0.1", "10.0.0.2"},
			TokenExpiry: now.Add(2 * time.Hour), Expiry: now.Add(time.Hour)},
		{Application: "contosoapp", Remote: "10.0.0.1", Token: hex.EncodeToString(digest[:]), Addresses: []string{"10.0.0.1", "10.0.0.2"},
			TokenExpiry: now.Add(2 * time.Hour), Expiry: now, Released: true},
		{Application: "fabrikam", Remote: "10.0.0.3", TokenExpiry: now.Add(2 * time.Hour), Expiry: now.Add(time.Hour)},
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(leaseBucket)
		if err != nil {
			return err
		}
		for i, r := range records {
			v, _ := json.Marshal(r)
			if err := b.Put(ids[i][:], v); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	for range 2 { // the first opening rewrites the records, the second reads them
		l, err := OpenLeases(path)
		if err != nil {
			t.Fatal(err)
		}
		active, total := l.Active(now, -1)
		want := []Lease{
			{ID: ids[0].String(), Application: "contosoapp", Remote: "10.0.0.1", Expiry: now.Add(time.Hour)},
			{ID: ids[2].String(), Application: "fabrikam", Remote: "10.0.0.3", Expiry: now.Add(time.Hour)},
		}
		if total != 2 || !reflect.DeepEqual(active, want) {
			t.Errorf("restored %+v, want %+v", active, want)
		}
		// The token's other address may renew; the old record's lease only
		// from the address that acquired it.
		if _, err := l.Renew(ids[0].String(), netip.MustParseAddr("10.0.0.2"), time.Hour, now); err != nil {
			t.Errorf("renewal from the token's other address: %v", err)
		}
		if _, err := l.Renew(ids[2].String(), netip.MustParseAddr("10.0.0.3"), time.Hour, now); err != nil {
			t.Errorf("renewal of the record without a token: %v", err)
		}
		if _, err := l.Renew(ids[1].String(), netip.MustParseAddr("10.0.0.1"), time.Minute, now); !errors.Is(err, errReleased) {
			t.Errorf("renewal of the released lease: %v, want %v", err, errReleased)
		}
		l.DB().View(func(tx *bolt.Tx) error {
			return tx.Bucket(leaseBucket).ForEach(func(k, v []byte) error {
				if _, err := decodeRecord(v); len(k) != 8 || err != nil {
					t.Errorf("record %x left as %s (%v)", k, v, err)
				}
				return nil
			})
		})
		l.Close()
	}
}
