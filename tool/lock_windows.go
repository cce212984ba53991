//go:build windows

package tool

import (
	"errors"
	"os"
	"syscall"
)

// errSharingViolation is ERROR_SHARING_VIOLATION: another has the file
// open without sharing it.
const errSharingViolation syscall.Errno = 32

// tryLock takes an exclusive lock on the file at path without waiting:
// held reports false when another holds it. The lock is the file opened
// without sharing, so it is released when the process ends, however it
// ends.
func tryLock(path string) (release func(), held bool, err error) {
	name, err := syscall.UTF16PtrFromString(path)
	if err != nil {
		return nil, false, err
	}
	h, err := syscall.CreateFile(name, syscall.GENERIC_READ|syscall.GENERIC_WRITE, 0, nil,
		syscall.OPEN_ALWAYS, syscall.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		if errors.Is(err, errSharingViolation) {
			return nil, false, nil
		}
		return nil, false, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return func() { syscall.CloseHandle(h) }, true, nil
}
