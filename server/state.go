package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/seskit/ses/cli"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// stateLockWait is how long opening a --state file waits for another
// process holding it.
const stateLockWait = 2 * time.Second

// DamagedError says a --state file cannot be read: bbolt found it invalid,
// a record in it does not decode, or reading it panicked.
type DamagedError struct {
	Path string
	Err  error
}

func (e *DamagedError) Error() string { return fmt.Sprintf("%s is damaged: %v", e.Path, e.Err) }
func (e *DamagedError) Unwrap() error { return e.Err }

// LockedError says another process holds a --state file.
type LockedError struct{ Path string }

func (e *LockedError) Error() string {
	return fmt.Sprintf("%s is locked: another server is using it", e.Path)
}

// openStateDB opens (or creates, 0600) the bbolt file at path, never
// through a symbolic link (a *cli.SymlinkError), waiting a little for
// another process that holds it (then a *LockedError). A file bbolt does
// not take is a *DamagedError. The free list is not written with each
// commit (bbolt rebuilds it on open), which makes the commits shorter.
func openStateDB(path string, readOnly bool) (*bolt.DB, error) {
	if !readOnly {
		if err := walkState(path); err != nil {
			return nil, err
		}
	}
	db, err := bolt.Open(path, cli.PrivateMode, &bolt.Options{Timeout: stateLockWait, ReadOnly: readOnly, OpenFile: cli.OpenPrivate, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, openError(path, err)
	}
	return db, nil
}

// walkState reads every page of an existing --state file, read-only, on
// the caller's goroutine. Opening it for writing, bbolt rebuilds the free
// list it did not write by walking the file on a goroutine of its own,
// where damage would panic beyond readState's recovery: walked here
// first, damage panics (or faults) where readState reports it.
func walkState(path string) error {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	db, err := bolt.Open(path, cli.PrivateMode, &bolt.Options{Timeout: stateLockWait, ReadOnly: true, OpenFile: cli.OpenPrivate})
	if err != nil {
		return openError(path, err)
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(_ []byte, b *bolt.Bucket) error {
			walkBucket(b)
			return nil
		})
	})
}

// walkBucket visits every key of b and of the buckets nested in it.
func walkBucket(b *bolt.Bucket) {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v == nil {
			if nested := b.Bucket(k); nested != nil {
				walkBucket(nested)
			}
		}
	}
}

// openError is what bolt.Open's error says of the file at path.
func openError(path string, err error) error {
	var (
		link *cli.SymlinkError
		pe   *fs.PathError
	)
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return &LockedError{Path: path}
	case errors.As(err, &link):
		return err
	case errors.As(err, &pe):
		return fmt.Errorf("opening %s: %w", path, pe.Err)
	case systemError(err):
		return fmt.Errorf("opening %s: %w", path, err)
	}
	return &DamagedError{Path: path, Err: err}
}

// systemError reports an error of the system (a file missing, no
// permission, a full disk) rather than of the file's content.
func systemError(err error) bool {
	var pe *fs.PathError
	var errno syscall.Errno
	return errors.As(err, &pe) || errors.As(err, &errno)
}

// OpenState opens a --state file: the leases, restored, and the usage
// record beside them (size records in memory, keep in the file). bbolt
// panics on some damage (a truncated file, an overwritten page): that,
// like a record that does not decode, is a *DamagedError, the file left
// as it was.
func OpenState(path string, size, keep int, now time.Time) (leases *Leases, usage *Usage, err error) {
	err = readState(path, func() error {
		if leases, err = OpenLeases(path); err != nil {
			return err
		}
		if usage, err = OpenUsage(leases, size, keep, now); err != nil {
			leases.Close()
			return err
		}
		return nil
	})
	return leases, usage, err
}

// readState runs fn, which reads the --state file at path, and reports
// a panic inside it, or an error that is not the system's, as damage. A
// read past the end of a truncated file that bbolt has mapped is a fault,
// made a panic here too.
func readState(path string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			err = &DamagedError{Path: path, Err: fmt.Errorf("%v", p)}
		}
	}()
	err = fn()
	var (
		damaged *DamagedError
		locked  *LockedError
		link    *cli.SymlinkError
	)
	switch {
	case err == nil, errors.As(err, &damaged), errors.As(err, &locked), errors.As(err, &link), systemError(err):
		return err
	}
	return &DamagedError{Path: path, Err: err}
}
