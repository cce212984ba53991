package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// PrivateMode is the mode of the files ses creates that others must not
// read: the log file and the --state database.
const PrivateMode = 0o600

// SymlinkError refuses a path that is a symbolic link where ses creates or
// writes a file of its own: a link planted there would send the writes
// elsewhere.
type SymlinkError struct{ Path string }

func (e *SymlinkError) Error() string {
	return fmt.Sprintf("%s is a symbolic link: refusing to follow it", e.Path)
}

// OpenPrivate opens path as os.OpenFile does, creating it with PrivateMode
// when flag has os.O_CREATE, but never through a symbolic link in its last
// element (O_NOFOLLOW where the system has it): such a path gets a
// *SymlinkError. Its signature is os.OpenFile's, so bbolt can open with it.
func OpenPrivate(path string, flag int, _ os.FileMode) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, &SymlinkError{Path: path}
	}
	f, err := os.OpenFile(path, flag|noFollow, PrivateMode)
	if err != nil && isLoop(err) {
		// Planted between the check and the open.
		return nil, &SymlinkError{Path: path}
	}
	return f, err
}

// isLoop reports the error of an O_NOFOLLOW open of a symbolic link.
func isLoop(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && errors.Is(pe.Err, errLoop)
}
