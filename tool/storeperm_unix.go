//go:build unix

package tool

import (
	"fmt"
	"io/fs"
	"syscall"
)

// permissionProblem reports why another user than uid could change the
// folder fi describes: it is theirs, or they may write in it.
func permissionProblem(fi fs.FileInfo, uid int) (StoreProblem, string) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != uid {
		return StoreNotOwned, fmt.Sprintf("is owned by uid %d, not by you (uid %d)", st.Uid, uid)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return StoreWritable, fmt.Sprintf("is writable by group or others (mode %v)", fi.Mode().Perm())
	}
	return 0, ""
}
